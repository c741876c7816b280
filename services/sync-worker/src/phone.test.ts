import { describe, expect, it } from 'vitest';
import { PhoneRegion, toE164 } from './phone.ts';

describe('toE164', () => {
  it.each([
    ['16315551181', '+16315551181'],
    ['+1 (631) 555-1181', '+16315551181'],
    ['0044 20 7946 0958', '+442079460958'],
    ['4915112345678', '+4915112345678'],
  ])('%s → %s', (input, expected) => {
    expect(toE164(input)).toBe(expected);
  });

  it.each(['', 'abc', '12', '+999999999999999999'])('rejects %j', (input) => {
    expect(toE164(input)).toBeNull();
  });

  it.each([
    // National numbers, read in the region given.
    ['(631) 555-1181', 'US', '+16315551181'],
    ['631 555 1181', 'US', '+16315551181'],
    ['020 7946 0958', 'GB', '+442079460958'],
    ['0151 12345678', 'DE', '+4915112345678'],
    // A trunk or international prefix of the region is understood.
    ['1 631 555 1181', 'US', '+16315551181'],
    ['011 44 20 7946 0958', 'US', '+442079460958'],
    // International forms stay international whatever the region.
    ['+44 20 7946 0958', 'US', '+442079460958'],
    ['0016315551181', 'GB', '+16315551181'],
    // Not a valid number of the region: read as international without the `+` (a WhatsApp id).
    ['4915112345678', 'US', '+4915112345678'],
    ['442079460958', 'US', '+442079460958'],
  ] as const)('%s in %s → %s', (input, region, expected) => {
    expect(toE164(input, region)).toBe(expected);
  });

  it('reads a national number as another country without a region, which is why it needs one', () => {
    expect(toE164('(631) 555-1181')).not.toBe('+16315551181');
  });

  it('remembers a number read in one region without answering for another (the region is part of the key)', () => {
    expect(toE164('020 7946 0958', 'GB')).toBe('+442079460958');
    expect(toE164('020 7946 0958', 'GB')).toBe('+442079460958');
    expect(toE164('020 7946 0958', 'US')).not.toBe('+442079460958');
    expect(toE164('020 7946 0958')).not.toBe('+442079460958');
  });
});

describe('PhoneRegion', () => {
  it('accepts a known region in any case and refuses anything else', () => {
    expect(PhoneRegion.parse('us')).toBe('US');
    expect(PhoneRegion.parse(' GB ')).toBe('GB');
    for (const bad of ['', 'XX', 'USA', '1']) expect(PhoneRegion.safeParse(bad).success, bad).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { toE164 } from './phone.ts';

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
});

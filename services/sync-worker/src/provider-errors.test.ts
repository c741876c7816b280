import { describe, expect, it } from 'vitest';
import { mergeErrors } from './provider-errors.ts';

const rate = { code: 131048, title: 'Spam rate limit hit' };
const gone = { code: 131026, title: 'Message undeliverable', details: 'Receiver is incapable of receiving' };

describe('mergeErrors', () => {
  it('keeps what it had when nothing new arrives', () => {
    const kept = [rate];
    expect(mergeErrors(kept, null)).toBe(kept);
    expect(mergeErrors(kept, [])).toBe(kept);
    expect(mergeErrors(kept, [{ ...rate }])).toBe(kept);
    expect(mergeErrors(null, undefined)).toBeNull();
  });

  it('appends each new error once, in the order first seen', () => {
    expect(mergeErrors(null, [rate, rate])).toEqual([rate]);
    expect(mergeErrors([rate], [gone, rate, { ...gone }])).toEqual([rate, gone]);
  });

  it('tells errors apart by every field', () => {
    const sameCodeOtherDetails = { ...gone, details: 'Number not on WhatsApp' };
    expect(mergeErrors([gone], [sameCodeOtherDetails])).toEqual([gone, sameCodeOtherDetails]);
    expect(mergeErrors([{ code: 1 }], [{ code: '1' }])).toEqual([{ code: 1 }, { code: '1' }]);
  });
});

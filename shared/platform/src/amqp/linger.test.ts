import { describe, expect, it } from 'vitest';
import { lingerUntil, PACE_ARRIVALS, RecentArrivals } from './linger.ts';

describe('lingerUntil', () => {
  it.each([
    // [case, oldest waiting, linger, recent arrivals, may wait until]
    ['no linger', 6, 0, [0, 2, 4, 6], undefined],
    ['too few arrivals to read a pace from', 4, 10, [0, 2, 4], undefined],
    ['a lone delivery after a quiet spell', 1_000, 10, [0, 2, 4, 1_000], undefined],
    ['company due in time: until two gaps after the last', 6, 10, [0, 2, 4, 6], 10],
    ['a steady stream: never past the bound after the oldest', 6, 10, [8, 10, 12, 14], 16],
    ['the next one due exactly at the bound still waits', 15, 5, [0, 5, 10, 15], 20],
    ['the next one due after the bound', 14, 10, [0, 7, 14, 21], undefined],
    ['a burst: a moment after its last', 30, 10, [30, 30.1, 30.2, 30.3], 30.5],
  ])('%s', (_case, oldest, linger, arrivals, until) => {
    const got = lingerUntil(oldest, linger, arrivals);
    if (until === undefined) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(until, 9);
  });
});

describe('RecentArrivals', () => {
  it(`keeps the last ${PACE_ARRIVALS}, oldest first`, () => {
    const arrivals = new RecentArrivals();
    for (const at of [1, 2, 3, 4, 5, 6]) arrivals.record(at);
    expect(arrivals.times).toEqual([3, 4, 5, 6]);
  });
});

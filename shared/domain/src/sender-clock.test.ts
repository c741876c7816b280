import { describe, expect, it } from 'vitest';
import { boundSenderTime, SENDER_CLOCK_SKEW_MS } from './sender-clock.ts';

const now = new Date('2026-12-07T10:00:00.000Z');

describe('boundSenderTime', () => {
  it.each([
    ['the past', '2026-12-07T09:00:00Z', { at: '2026-12-07T09:00:00Z', clamped: false }],
    ['now', '2026-12-07T10:00:00.000Z', { at: '2026-12-07T10:00:00.000Z', clamped: false }],
    ['within the skew', '2026-12-07T10:00:05+00:00', { at: '2026-12-07T10:00:05+00:00', clamped: false }],
    ['just past it', '2026-12-07T10:00:05.001Z', { at: '2026-12-07T10:00:05.000Z', clamped: true }],
    ['a year ahead', '2027-12-07T10:00:00Z', { at: '2026-12-07T10:00:05.000Z', clamped: true }],
    ['ahead, in another zone', '2026-12-07T12:00:00+01:00', { at: '2026-12-07T10:00:05.000Z', clamped: true }],
  ])('%s', (_what, at, expected) => {
    expect(boundSenderTime(at, now)).toEqual(expected);
  });

  it('never lets a time past now + skew through', () => {
    for (let ahead = -10_000; ahead < 100_000; ahead += 777) {
      const at = new Date(now.getTime() + ahead).toISOString();
      expect(Date.parse(boundSenderTime(at, now).at)).toBeLessThanOrEqual(now.getTime() + SENDER_CLOCK_SKEW_MS);
    }
  });
});

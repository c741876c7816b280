import { describe, expect, it } from 'vitest';
import { changeRetentionPolicy, checkRetentionPolicy, DEFAULT_RETENTION, retentionCutoff } from './retention.ts';

describe('retention policy', () => {
  it('accepts the defaults', () => {
    expect(checkRetentionPolicy(DEFAULT_RETENTION).kind).toBe('ok');
  });

  it.each([
    [{ messageDays: 0 }, 'messageDays must be a whole number'],
    [{ mediaDays: 1.5 }, 'mediaDays must be a whole number'],
    [{ conversationDays: 99_999 }, 'conversationDays must be a whole number'],
    [{ leadDays: 800 }, 'leadDays (800) is longer than conversationDays (730)'],
    [{ conversationDays: 30 }, 'messageDays (365) is longer than conversationDays (30)'],
  ])('refuses %o', (change, reason) => {
    const r = changeRetentionPolicy(DEFAULT_RETENTION, change);
    expect(r.kind).toBe('reject');
    if (r.kind === 'reject') expect(r.reason).toContain(reason);
  });

  it('applies a coherent change as a whole', () => {
    const r = changeRetentionPolicy(DEFAULT_RETENTION, {
      conversationDays: 30,
      messageDays: 30,
      mediaDays: 7,
      emailBodyDays: 7,
      statusHistoryDays: 30,
      leadDays: 30,
    });
    expect(r).toEqual({
      kind: 'ok',
      policy: {
        conversationDays: 30,
        messageDays: 30,
        mediaDays: 7,
        emailBodyDays: 7,
        statusHistoryDays: 30,
        leadDays: 30,
      },
    });
  });

  it('puts the cutoff the period before now', () => {
    expect(retentionCutoff(DEFAULT_RETENTION, 'mediaDays', new Date('2026-04-01T00:00:00Z'))).toEqual(
      new Date('2026-01-01T00:00:00Z'),
    );
  });
});

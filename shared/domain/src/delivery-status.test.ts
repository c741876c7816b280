import { describe, expect, it } from 'vitest';
import {
  type DeliveryState,
  type DeliveryStatus,
  decideDeliveryStatus,
  emptyDeliveryState,
} from './delivery-status.ts';

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

function fold(reports: Array<[DeliveryStatus, number]>): DeliveryState {
  return reports.reduce((state, [status, s]) => {
    const d = decideDeliveryStatus(state, { status, at: t(s) });
    return d.kind === 'apply' ? d.next : state;
  }, emptyDeliveryState);
}

describe('decideDeliveryStatus', () => {
  it.each<[string, Array<[DeliveryStatus, number]>, DeliveryStatus]>([
    [
      'in order',
      [
        ['sent', 1],
        ['delivered', 2],
        ['read', 3],
      ],
      'read',
    ],
    [
      'read before delivered',
      [
        ['read', 3],
        ['delivered', 2],
      ],
      'read',
    ],
    [
      'read before sent',
      [
        ['read', 3],
        ['sent', 1],
      ],
      'read',
    ],
    [
      'failed after sent',
      [
        ['sent', 1],
        ['failed', 2],
      ],
      'failed',
    ],
    [
      'failed after delivered stays delivered',
      [
        ['delivered', 2],
        ['failed', 4],
      ],
      'delivered',
    ],
    [
      'delivered after failed moves forward',
      [
        ['failed', 2],
        ['delivered', 3],
      ],
      'delivered',
    ],
  ])('%s', (_name, reports, expected) => {
    expect(fold(reports).status).toBe(expected);
  });

  it('keeps a timestamp for every status seen, whatever the order', () => {
    const state = fold([
      ['read', 3],
      ['delivered', 2],
      ['sent', 1],
      ['failed', 4],
    ]);
    expect(state).toEqual({ status: 'read', sentAt: t(1), deliveredAt: t(2), readAt: t(3), failedAt: t(4) });
  });

  it('ignores an exact duplicate', () => {
    const state = fold([['delivered', 2]]);
    expect(decideDeliveryStatus(state, { status: 'delivered', at: t(9) })).toEqual({
      kind: 'ignore',
      reason: 'duplicate',
    });
  });

  it('records an older status without changing the current one', () => {
    const state = fold([['read', 3]]);
    const d = decideDeliveryStatus(state, { status: 'delivered', at: t(2) });
    expect(d).toMatchObject({ kind: 'apply', statusChanged: false, next: { status: 'read', deliveredAt: t(2) } });
  });

  it('never moves backwards over any permutation', () => {
    const all: DeliveryStatus[] = ['sent', 'failed', 'delivered', 'read'];
    const rank = { sent: 1, failed: 2, delivered: 3, read: 4 };
    const perms = (xs: DeliveryStatus[]): DeliveryStatus[][] =>
      xs.length <= 1
        ? [xs]
        : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
    for (const order of perms(all)) {
      let state = emptyDeliveryState;
      for (const [i, status] of order.entries()) {
        const d = decideDeliveryStatus(state, { status, at: t(i) });
        if (d.kind === 'apply') {
          expect(rank[d.next.status ?? 'sent']).toBeGreaterThanOrEqual(rank[state.status ?? 'sent']);
          state = d.next;
        }
      }
      expect(state.status).toBe('read');
    }
  });
});

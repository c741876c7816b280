/**
 * Delivery status of a message, as providers report it. Statuses arrive out of order and more
 * than once, so the stored status only ever moves forward along `rank`. `failed` ranks between
 * `sent` and `delivered`: a failure is believed over a bare `sent`, but once the provider has
 * seen the message delivered or read, a late failure report is kept (timestamp and error) without
 * moving the message backwards.
 */
export const DELIVERY_STATUSES = ['sent', 'failed', 'delivered', 'read'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

const rank: Record<DeliveryStatus, number> = { sent: 1, failed: 2, delivered: 3, read: 4 };

export interface DeliveryState {
  status: DeliveryStatus | null;
  sentAt: Date | null;
  deliveredAt: Date | null;
  readAt: Date | null;
  failedAt: Date | null;
}

export interface StatusReport {
  status: DeliveryStatus;
  at: Date;
}

export type DeliveryDecision =
  | { kind: 'apply'; next: DeliveryState; statusChanged: boolean }
  | { kind: 'ignore'; reason: 'duplicate' };

const timestampField = {
  sent: 'sentAt',
  delivered: 'deliveredAt',
  read: 'readAt',
  failed: 'failedAt',
} as const satisfies Record<DeliveryStatus, keyof DeliveryState>;

/**
 * Folds one status report into the current state. Each status keeps its own first-seen
 * timestamp; the status itself advances only to a higher rank. A report that changes neither
 * is a duplicate.
 */
export function decideDeliveryStatus(current: DeliveryState, report: StatusReport): DeliveryDecision {
  const field = timestampField[report.status];
  const stampNew = current[field] === null;
  const advances = current.status === null || rank[report.status] > rank[current.status];
  if (!stampNew && !advances) return { kind: 'ignore', reason: 'duplicate' };
  return {
    kind: 'apply',
    statusChanged: advances,
    next: {
      ...current,
      [field]: stampNew ? report.at : current[field],
      status: advances ? report.status : current.status,
    },
  };
}

export const emptyDeliveryState: DeliveryState = {
  status: null,
  sentAt: null,
  deliveredAt: null,
  readAt: null,
  failedAt: null,
};

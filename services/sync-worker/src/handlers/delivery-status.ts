import type { ProviderError } from '@switchboard/contracts';
import type { Executor, OutboxEntry } from '@switchboard/db';
import { type DeliveryStatus, decideDeliveryStatus } from '@switchboard/domain';
import type { Deps } from '../deps.ts';
import type { Count } from '../metrics.ts';
import { mergeErrors } from '../provider-errors.ts';
import { holdDeliveryStatus } from '../store/held-delivery-statuses.ts';
import {
  findMessageForUpdate,
  lockMessageKey,
  type MessageKey,
  type StoredDelivery,
  saveDelivery,
} from '../store/messages.ts';
import { domainEvent } from './events.ts';
import type { Effects } from './route.ts';

/** A provider's report of a message's delivery status (sent, delivered, read, failed). */
export interface DeliveryReport {
  status: DeliveryStatus;
  at: Date;
  errors: ProviderError[] | null;
}

/** What folding delivery reports into a message did. */
export interface AppliedDeliveryReports {
  /** A `message.status.changed` for each report that moved the status. */
  events: OutboxEntry[];
  /** The row changed (status, a status's first timestamp, or new errors): its lookups are stale. */
  changed: boolean;
  status: DeliveryStatus | null;
  /** Each report by its result (applied, stale), to count once the transaction commits. */
  counts: Count[];
}

const deliveryCount = (provider: string, result: 'applied' | 'stale' | 'held'): Count => ({
  metric: 'statuses',
  labels: { provider, result },
});

/** The message as the reports fold into it, and what folding them did so far. */
interface Fold {
  state: StoredDelivery;
  errors: StoredDelivery['errors'];
  changed: boolean;
  events: OutboxEntry[];
  counts: Count[];
}

/**
 * Folds delivery reports into a stored message (the row is locked by the caller) and saves the
 * result once. Errors accumulate, each distinct one once: a failure report's errors are kept even
 * when the status does not move, a repeated `failed` included (it adds its errors, not a second
 * event).
 */
export async function applyDeliveryReports(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  meta: MessageKey,
  message: StoredDelivery,
  reports: DeliveryReport[],
): Promise<AppliedDeliveryReports> {
  const fold: Fold = { state: message, errors: message.errors, changed: false, events: [], counts: [] };
  for (const report of reports) foldReport(deps, meta, fold, report);
  if (fold.changed) await saveDelivery(tx, message.id, fold.state, fold.errors);
  return { events: fold.events, changed: fold.changed, status: fold.state.status, counts: fold.counts };
}

/**
 * One report: its errors kept, its status applied only forward (`decideDeliveryStatus`: a status's
 * first timestamp is still stamped when it arrives late), and a `message.status.changed` when the
 * status moved.
 */
function foldReport(deps: Pick<Deps, 'names' | 'now'>, meta: MessageKey, fold: Fold, report: DeliveryReport): void {
  const merged = mergeErrors(fold.errors, report.errors);
  fold.changed ||= merged !== fold.errors;
  fold.errors = merged;
  const decision = decideDeliveryStatus(fold.state, { status: report.status, at: report.at });
  switch (decision.kind) {
    case 'ignore':
      fold.counts.push(deliveryCount(meta.provider, 'stale'));
      return;
    case 'apply':
      break;
    default: {
      const never: never = decision;
      throw new Error(`unhandled decision ${JSON.stringify(never)}`);
    }
  }
  fold.changed = true;
  fold.counts.push(deliveryCount(meta.provider, decision.statusChanged ? 'applied' : 'stale'));
  if (decision.statusChanged && decision.next.status) {
    fold.events.push(statusChangedEvent(deps, meta, fold.state, decision.next.status, report));
  }
  fold.state = { ...fold.state, ...decision.next };
}

const statusChangedEvent = (
  deps: Pick<Deps, 'names' | 'now'>,
  meta: MessageKey,
  message: StoredDelivery,
  status: DeliveryStatus,
  report: DeliveryReport,
): OutboxEntry =>
  domainEvent(
    deps,
    'message.status.changed',
    { tenantId: meta.tenantId, conversationId: message.conversationId },
    {
      messageId: message.id,
      conversationId: message.conversationId,
      provider: meta.provider,
      providerMessageId: meta.providerMessageId,
      previousStatus: message.status,
      status,
      at: report.at.toISOString(),
      ...(report.errors?.length ? { errors: report.errors } : {}),
    },
  );

/**
 * One provider status report for the message `key`: applied to the stored message under its
 * advisory lock, or held until the message is stored. Returns the events it caused and its count.
 */
export async function reportDeliveryStatus(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  key: MessageKey,
  report: DeliveryReport,
  eventId: string,
): Promise<Effects> {
  await lockMessageKey(tx, key);
  const message = await findMessageForUpdate(tx, key);
  if (message) {
    const applied = await applyDeliveryReports(tx, deps, key, message, [report]);
    return { outbox: applied.events, counts: applied.counts };
  }
  await holdDeliveryStatus(tx, key, { ...report, eventId });
  return { outbox: [], counts: [deliveryCount(key.provider, 'held')] };
}

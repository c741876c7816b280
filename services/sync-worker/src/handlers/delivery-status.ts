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

/**
 * Folds status reports into a stored message (the row is locked by the caller) and saves the
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
  let state: StoredDelivery = message;
  let errors = message.errors;
  let changed = false;
  const events: OutboxEntry[] = [];
  const counts: Count[] = [];
  for (const report of reports) {
    const merged = mergeErrors(errors, report.errors);
    changed ||= merged !== errors;
    errors = merged;
    const decision = decideDeliveryStatus(state, { status: report.status, at: report.at });
    switch (decision.kind) {
      case 'ignore':
        counts.push(deliveryCount(meta.provider, 'stale'));
        continue;
      case 'apply':
        break;
      default: {
        const never: never = decision;
        throw new Error(`unhandled decision ${JSON.stringify(never)}`);
      }
    }
    changed = true;
    counts.push(deliveryCount(meta.provider, decision.statusChanged ? 'applied' : 'stale'));
    if (decision.statusChanged && decision.next.status) {
      events.push(
        domainEvent(
          deps,
          'message.status.changed',
          { tenantId: meta.tenantId, conversationId: message.conversationId },
          {
            messageId: message.id,
            conversationId: message.conversationId,
            provider: meta.provider,
            providerMessageId: meta.providerMessageId,
            previousStatus: state.status,
            status: decision.next.status,
            at: report.at.toISOString(),
            ...(report.errors?.length ? { errors: report.errors } : {}),
          },
        ),
      );
    }
    state = { ...state, ...decision.next };
  }
  if (changed) await saveDelivery(tx, message.id, state, errors);
  return { events, changed, status: state.status, counts };
}

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

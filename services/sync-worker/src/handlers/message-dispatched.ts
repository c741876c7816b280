import type { Executor, OutboxEntry } from '@switchboard/db';
import type { DeliveryStatus } from '@switchboard/domain';
import type { Deps } from '../deps.ts';
import type { Count } from '../metrics.ts';
import { findDispatchTarget, insertAlias, messageNamedBy } from '../store/aliases.ts';
import { takeHeldDeliveryStatusesOf } from '../store/held-delivery-statuses.ts';
import { findMessageForUpdate, lockMessageKey } from '../store/messages.ts';
import { applyDeliveryReports, type DeliveryReport } from './delivery-status.ts';

export interface Dispatch {
  /** The id the channel's provider gave the message (WhatsApp: the wamid Meta returned). */
  providerMessageId: string;
  /** When the sender handed it over. */
  sentAt: Date;
}

export type DispatchResult =
  | { kind: 'not_found' }
  | { kind: 'conflict'; message: string }
  | {
      kind: 'dispatched';
      provider: string;
      /** A new id was recorded (false: the message already had this one). */
      recorded: boolean;
      /** The message changed (its id, status or a status's timestamp): its lookups are stale. */
      changed: boolean;
      status: DeliveryStatus | null;
      outbox: OutboxEntry[];
      /** The statuses applied, to count once the transaction commits. */
      counts: Count[];
    };

/**
 * The downstream sender's report that it handed an outbound message to its channel's provider
 * (seed 001, "update message tracking on sends"). A reply is stored under its origin's id
 * (Genesys, agent desk), so the provider's id is recorded as an alias: that provider's statuses
 * find the message from then on, and the statuses held because they overtook this report are
 * applied now, with the hand-over itself as a `sent` report, by the same monotonic rule and with
 * the same `message.status.changed` events as the worker's. Repeating the report changes nothing.
 *
 * It takes the provider id's advisory lock before the message's row, like a status for that id
 * does: a status is either held before this runs (and taken here) or finds the alias after it
 * commits; never both, never neither.
 */
export async function recordDispatch(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  tenantId: string,
  messageId: string,
  d: Dispatch,
): Promise<DispatchResult> {
  const target = await findDispatchTarget(tx, tenantId, messageId);
  if (target?.direction !== 'outbound') return { kind: 'not_found' };
  const provider = target.channel_provider;
  const dispatchedAs = (id: string) => ({
    kind: 'conflict' as const,
    message: `message ${messageId} was dispatched as ${provider} message ${id}`,
  });
  if (target.channel_message_id !== null && target.channel_message_id !== d.providerMessageId) {
    return dispatchedAs(target.channel_message_id);
  }
  const key = { tenantId, provider, providerMessageId: d.providerMessageId };
  await lockMessageKey(tx, key);
  let recorded = false;
  if (target.channel_message_id === null) {
    const owner = await messageNamedBy(tx, key);
    if (owner !== null && owner !== messageId) {
      return { kind: 'conflict', message: `${provider} message ${d.providerMessageId} is another message's` };
    }
    recorded = owner === null && (await insertAlias(tx, key, messageId, d.sentAt));
    if (owner === null && !recorded) {
      // A concurrent dispatch of this message recorded another id first.
      const now = await findDispatchTarget(tx, tenantId, messageId);
      return dispatchedAs(now?.channel_message_id ?? 'unknown');
    }
  }
  const row = await findMessageForUpdate(tx, key);
  if (!row || row.id !== messageId) throw new Error(`${provider} message ${d.providerMessageId} lost its message`);
  const held = await takeHeldDeliveryStatusesOf(tx, key);
  const reports: DeliveryReport[] = [...held, { status: 'sent' as const, at: d.sentAt, errors: null }].sort(
    (a, b) => a.at.getTime() - b.at.getTime(),
  );
  const applied = await applyDeliveryReports(tx, deps, key, row, reports);
  return {
    kind: 'dispatched',
    provider,
    recorded,
    changed: recorded || applied.changed,
    status: applied.status,
    outbox: applied.events,
    counts: applied.counts,
  };
}

import type { ProviderError } from '@switchboard/contracts';
import { type Executor, schema } from '@switchboard/db';
import type { DeliveryState, DeliveryStatus } from '@switchboard/domain';
import { and, eq, sql } from 'drizzle-orm';
import { mergeErrors } from '../provider-errors.ts';

const { messages, pendingStatuses } = schema;

export interface MessageKey {
  tenantId: string;
  provider: string;
  providerMessageId: string;
}

/**
 * Serializes "store a message" against "report a status for it" in Postgres: both take this
 * transaction-scoped lock before looking at the other's table, so a status is either applied to
 * the committed message or held where the message's transaction will find it. Never both, never
 * neither.
 */
export async function lockMessageKey(tx: Executor, k: MessageKey): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${messageLockKey(k)}, 0))`);
}

export const messageLockKey = (k: MessageKey) => `${k.tenantId}/${k.provider}/${k.providerMessageId}`;

export interface StoredDelivery extends DeliveryState {
  id: string;
  conversationId: string;
  errors: ProviderError[] | null;
}

/**
 * The message `k` names, row-locked: the one stored under that key, or else the one that key is
 * an alias of (`message_aliases`: a reply stored under its origin's id, dispatched on WhatsApp).
 */
export async function findMessageForUpdate(tx: Executor, k: MessageKey): Promise<StoredDelivery | null> {
  const [row] = await tx
    .select({
      id: messages.id,
      conversationId: messages.conversationId,
      status: messages.deliveryStatus,
      sentAt: messages.sentAt,
      deliveredAt: messages.deliveredAt,
      readAt: messages.readAt,
      failedAt: messages.failedAt,
      errors: messages.errors,
    })
    .from(messages)
    .where(
      and(
        eq(messages.tenantId, k.tenantId),
        eq(
          messages.id,
          sql`coalesce(
            (select m.id from messages m
              where m.tenant_id = ${k.tenantId} and m.provider = ${k.provider} and m.provider_message_id = ${k.providerMessageId}),
            (select a.message_id from message_aliases a
              where a.tenant_id = ${k.tenantId} and a.provider = ${k.provider} and a.provider_message_id = ${k.providerMessageId}))`,
        ),
      ),
    )
    .for('update');
  if (!row) return null;
  return { ...row, status: row.status as DeliveryStatus | null, errors: row.errors as ProviderError[] | null };
}

export async function saveDelivery(
  tx: Executor,
  id: string,
  state: DeliveryState,
  errors: ProviderError[] | null,
): Promise<void> {
  await tx
    .update(messages)
    .set({
      deliveryStatus: state.status,
      sentAt: state.sentAt,
      deliveredAt: state.deliveredAt,
      readAt: state.readAt,
      failedAt: state.failedAt,
      errors,
    })
    .where(eq(messages.id, id));
}

export interface HeldStatus {
  status: DeliveryStatus;
  at: Date;
  errors: ProviderError[] | null;
  eventId: string;
}

/**
 * Keeps a status whose message is not stored yet. A repeat of a status already held adds only its
 * new errors to the held one (a repeated failure's detail is kept, not a second hold). Callers
 * hold the message's advisory lock (`lockMessageKey`), so the read and the write see each other.
 */
export async function holdStatus(tx: Executor, k: MessageKey, s: HeldStatus): Promise<void> {
  const [held] = await tx
    .select({ id: pendingStatuses.id, errors: pendingStatuses.errors })
    .from(pendingStatuses)
    .where(
      and(
        eq(pendingStatuses.tenantId, k.tenantId),
        eq(pendingStatuses.provider, k.provider),
        eq(pendingStatuses.providerMessageId, k.providerMessageId),
        eq(pendingStatuses.status, s.status),
      ),
    );
  if (!held) {
    await tx
      .insert(pendingStatuses)
      .values({ ...k, ...s })
      .onConflictDoNothing();
    return;
  }
  const kept = held.errors as ProviderError[] | null;
  const merged = mergeErrors(kept, s.errors);
  if (merged !== kept) await tx.update(pendingStatuses).set({ errors: merged }).where(eq(pendingStatuses.id, held.id));
}

/**
 * Deletes statuses held since before `olderThan` (their message never arrived), at most `limit`;
 * returns how many per provider. `skip locked` leaves alone a hold whose message is landing right
 * now (its transaction takes it); replicas sweeping at once share the work.
 */
export async function expireHeldStatuses(tx: Executor, olderThan: Date, limit: number): Promise<Map<string, number>> {
  const res = await tx.execute<{ provider: string; n: number }>(sql`
    with doomed as (
      select id from pending_statuses where held_at < ${olderThan.toISOString()}::timestamptz
       order by id limit ${limit} for update skip locked),
    gone as (delete from pending_statuses ps using doomed where ps.id = doomed.id returning ps.provider)
    select provider, count(*)::int as n from gone group by provider`);
  return new Map(res.rows.map((r) => [r.provider, r.n]));
}

import type { ProviderError } from '@switchboard/contracts';
import { type Executor, schema } from '@switchboard/db';
import type { DeliveryState, DeliveryStatus } from '@switchboard/domain';
import { and, eq, sql } from 'drizzle-orm';

const { messages } = schema;

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

const messageLockKey = (k: MessageKey) => `${k.tenantId}/${k.provider}/${k.providerMessageId}`;

/**
 * Takes the advisory locks of many message keys (see `lockMessageKey`) in one statement, in one
 * sorted order, so concurrent batches never wait on each other in a cycle.
 */
export async function lockMessageKeys(tx: Executor, keys: MessageKey[]): Promise<void> {
  await tx.execute(sql`
    select pg_advisory_xact_lock(hashtextextended(k, 0))
      from (select k from unnest(${sql.param(keys.map(messageLockKey))}::text[]) as k order by k) sorted`);
}

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

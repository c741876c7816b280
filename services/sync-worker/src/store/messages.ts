import type { ProviderError } from '@switchboard/contracts';
import { type Executor, schema } from '@switchboard/db';
import type { DeliveryState, DeliveryStatus } from '@switchboard/domain';
import { and, eq, sql } from 'drizzle-orm';

const { messages, pendingStatuses } = schema;

export interface NewMessage {
  tenantId: string;
  conversationId: string;
  direction: 'inbound' | 'outbound';
  provider: string;
  providerMessageId: string;
  type: string;
  body: string | null;
  content: Record<string, unknown>;
  providerSentAt: Date;
}

/** Inserts the message; null when this provider id is already stored for the tenant. */
export async function insertMessage(tx: Executor, m: NewMessage): Promise<{ id: string; receivedAt: Date } | null> {
  const [row] = await tx
    .insert(messages)
    .values(m)
    .onConflictDoNothing({ target: [messages.tenantId, messages.provider, messages.providerMessageId] })
    .returning({ id: messages.id, receivedAt: messages.receivedAt });
  return row ?? null;
}

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
        eq(messages.provider, k.provider),
        eq(messages.providerMessageId, k.providerMessageId),
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

/** Keeps a status whose message is not stored yet; a repeat of the same status is dropped. */
export async function holdStatus(tx: Executor, k: MessageKey, s: HeldStatus): Promise<void> {
  await tx
    .insert(pendingStatuses)
    .values({ ...k, ...s })
    .onConflictDoNothing();
}

/** Removes and returns the statuses held for a message, oldest first. */
export async function takeHeldStatuses(tx: Executor, k: MessageKey): Promise<HeldStatus[]> {
  const rows = await tx
    .delete(pendingStatuses)
    .where(
      and(
        eq(pendingStatuses.tenantId, k.tenantId),
        eq(pendingStatuses.provider, k.provider),
        eq(pendingStatuses.providerMessageId, k.providerMessageId),
      ),
    )
    .returning({
      status: pendingStatuses.status,
      at: pendingStatuses.at,
      errors: pendingStatuses.errors,
      eventId: pendingStatuses.eventId,
    });
  return rows
    .map((r) => ({ ...r, status: r.status as DeliveryStatus, errors: r.errors as ProviderError[] | null }))
    .sort((a, b) => a.at.getTime() - b.at.getTime());
}

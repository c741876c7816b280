import type { ProviderError } from '@switchboard/contracts';
import { type Executor, schema } from '@switchboard/db';
import type { DeliveryStatus } from '@switchboard/domain';
import { and, eq, sql } from 'drizzle-orm';
import { type KeyedMap, keyedMap } from '../keyed-map.ts';
import { mergeErrors } from '../provider-errors.ts';
import type { MessageKey } from './messages.ts';

/**
 * Delivery statuses that arrived before their message (`pending_statuses`): held here, taken
 * when the message lands, expired when it never does. Holding and taking both run under the
 * message key's advisory lock (`lockMessageKey`), so a status is held or applied, never both.
 */

const { pendingStatuses } = schema;
const p = (v: unknown[]) => sql.param(v);

export type HeldDeliveryStatus = {
  status: DeliveryStatus;
  at: Date;
  errors: ProviderError[] | null;
};

/**
 * Keeps a status whose message is not stored yet. A repeat of a status already held adds only its
 * new errors to the held one (a repeated failure's detail is kept, not a second hold).
 */
export async function holdDeliveryStatus(
  tx: Executor,
  k: MessageKey,
  s: HeldDeliveryStatus & { eventId: string },
): Promise<void> {
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

/** A message's held statuses are found by its tenant and provider id. */
export type HeldKey = readonly [tenantId: string, providerMessageId: string];

type HeldRow = HeldDeliveryStatus & { tenant_id: string; provider_message_id: string };

/**
 * Removes and returns the statuses held for these messages of one provider, by message, oldest
 * first. Callers hold the messages' advisory locks (see `lockMessageKeys`).
 */
export async function takeHeldDeliveryStatuses(
  tx: Executor,
  provider: string,
  keys: Array<{ tenantId: string; providerMessageId: string }>,
): Promise<KeyedMap<HeldKey, HeldDeliveryStatus[]>> {
  const res = await tx.execute<HeldRow>(sql`
    delete from pending_statuses ps
     using unnest(${p(keys.map((k) => k.tenantId))}::uuid[], ${p(keys.map((k) => k.providerMessageId))}::text[]) as k(t, m)
     where ps.tenant_id = k.t and ps.provider = ${provider} and ps.provider_message_id = k.m
    returning ps.tenant_id, ps.provider_message_id, ps.status, ps.at, ps.errors`);
  const out = keyedMap<HeldKey, HeldDeliveryStatus[]>();
  const oldestFirst = res.rows
    .map((r) => ({ ...r, at: new Date(r.at) }))
    .sort((a, b) => a.at.getTime() - b.at.getTime());
  for (const r of oldestFirst) {
    const key: HeldKey = [r.tenant_id, r.provider_message_id];
    out.set(key, [...(out.get(key) ?? []), { status: r.status, at: r.at, errors: r.errors }]);
  }
  return out;
}

/** The statuses held for one message, removed, oldest first (see `takeHeldDeliveryStatuses`). */
export async function takeHeldDeliveryStatusesOf(tx: Executor, k: MessageKey): Promise<HeldDeliveryStatus[]> {
  const held = await takeHeldDeliveryStatuses(tx, k.provider, [k]);
  return held.get([k.tenantId, k.providerMessageId]) ?? [];
}

/**
 * Deletes statuses held since before `olderThan` (their message never arrived), at most `limit`;
 * returns how many per provider. `skip locked` leaves alone a hold whose message is landing right
 * now (its transaction takes it); replicas sweeping at once share the work.
 */
export async function expireHeldDeliveryStatuses(
  tx: Executor,
  olderThan: Date,
  limit: number,
): Promise<Map<string, number>> {
  const res = await tx.execute<{ provider: string; n: number }>(sql`
    with doomed as (
      select id from pending_statuses where held_at < ${olderThan.toISOString()}::timestamptz
       order by id limit ${limit} for update skip locked),
    gone as (delete from pending_statuses ps using doomed where ps.id = doomed.id returning ps.provider)
    select provider, count(*)::int as n from gone group by provider`);
  return new Map(res.rows.map((r) => [r.provider, r.n]));
}

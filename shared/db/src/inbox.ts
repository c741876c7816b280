import { sql } from 'drizzle-orm';
import type { Executor } from './client.ts';
import { inbox } from './schema/index.ts';
import type { PreparedStatement } from './transaction.ts';

/**
 * The inbox claim of many event ids at once, as a prepared statement (parsed and planned once per
 * pooled connection, since every unit of work starts with it): returns the ids this transaction
 * claimed. An id listed twice is claimed once, and an id already applied is not returned.
 */
export const inboxClaimStatement = (consumer: string, eventIds: string[]): PreparedStatement => ({
  name: 'inbox_claim',
  text: `insert into inbox (consumer, event_id)
         select $1, id from unnest($2::uuid[]) as id
         on conflict do nothing returning event_id`,
  values: [consumer, eventIds],
});

/**
 * Drops one claim in the caller's transaction: a refused event, dead-lettered, is evaluated again
 * when an operator replays it (the claim is kept when the transaction rolls back).
 */
export async function unclaimInbox(tx: Executor, consumer: string, eventId: string): Promise<void> {
  await tx.execute(sql`delete from ${inbox} where ${inbox.consumer} = ${consumer} and ${inbox.eventId} = ${eventId}`);
}

/** Deletes inbox rows older than the longest a redelivery can arrive late. */
export async function pruneInbox(tx: Executor, olderThan: Date): Promise<number> {
  const res = await tx.execute(sql`delete from ${inbox} where ${inbox.processedAt} < ${olderThan}`);
  return res.rowCount ?? 0;
}

import { sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Executor } from './client.ts';
import { inbox } from './schema/index.ts';

/**
 * Claims many event ids at once; returns the ids this transaction claimed. An id listed twice is
 * claimed once, and an id already applied is not returned. A named statement: parsed and planned
 * once per pooled connection, since every unit of work starts with it.
 */
export async function claimInboxMany(
  client: pg.ClientBase,
  consumer: string,
  eventIds: string[],
): Promise<Set<string>> {
  const res = await client.query<{ event_id: string }>({
    name: 'inbox-claim',
    text: `insert into inbox (consumer, event_id)
           select $1, id from unnest($2::uuid[]) as id
           on conflict do nothing returning event_id`,
    values: [consumer, eventIds],
  });
  return new Set(res.rows.map((r) => r.event_id));
}

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

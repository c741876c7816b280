import { sql } from 'drizzle-orm';
import type { Executor } from './client.ts';
import { inbox } from './schema/index.ts';

/**
 * Claims `eventId` for `consumer` inside the caller's transaction. False means the event was
 * already applied (or is being applied by a concurrent delivery, whose commit this waits for):
 * the caller must change nothing.
 */
export async function claimInbox(tx: Executor, consumer: string, eventId: string): Promise<boolean> {
  const rows = await tx
    .insert(inbox)
    .values({ consumer, eventId })
    .onConflictDoNothing()
    .returning({ eventId: inbox.eventId });
  return rows.length === 1;
}

/** Deletes inbox rows older than the longest a redelivery can arrive late. */
export async function pruneInbox(tx: Executor, olderThan: Date): Promise<number> {
  const res = await tx.execute(sql`delete from ${inbox} where ${inbox.processedAt} < ${olderThan}`);
  return res.rowCount ?? 0;
}

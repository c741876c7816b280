import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from './client.ts';

/** Who made the status changes that follow in this transaction, for the history trigger. */
export interface ChangeContext {
  source: 'agent' | 'helpdesk' | 'sync' | 'migration' | 'system' | 'customer';
  changedBy?: string | null | undefined;
  reason?: string | null | undefined;
  notes?: string | null | undefined;
  causeEventId?: string | null | undefined;
}

/**
 * Sets the transaction-local context the `record_status_history` trigger reads. Every field is
 * set (empty when absent), so nothing leaks from an earlier change in the same transaction.
 */
export async function setChangeContext(tx: Executor, c: ChangeContext): Promise<void> {
  await tx.execute(sql`select ${withChangeContext(c)}`);
}

/**
 * The same context as a condition of the write it describes, saving the round trip: an
 * uncorrelated scalar sub-select, which Postgres evaluates once, before the statement touches a
 * row (and which is always true). The history trigger, AFTER ROW and so run at the end of the
 * statement, reads it. Put it in the WHERE of an update, or of an `insert ... select`.
 */
export const withChangeContext = (c: ChangeContext): SQL => sql`(select (
    set_config('switchboard.change_source', ${c.source}::text, true) ||
    set_config('switchboard.changed_by', ${c.changedBy ?? ''}::text, true) ||
    set_config('switchboard.change_reason', ${c.reason ?? ''}::text, true) ||
    set_config('switchboard.change_notes', ${c.notes ?? ''}::text, true) ||
    set_config('switchboard.cause_event_id', ${c.causeEventId ?? ''}::text, true)) is not null)`;

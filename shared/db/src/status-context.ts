import { sql } from 'drizzle-orm';
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
  await tx.execute(sql`select
    set_config('switchboard.change_source', ${c.source}, true),
    set_config('switchboard.changed_by', ${c.changedBy ?? ''}, true),
    set_config('switchboard.change_reason', ${c.reason ?? ''}, true),
    set_config('switchboard.change_notes', ${c.notes ?? ''}, true),
    set_config('switchboard.cause_event_id', ${c.causeEventId ?? ''}, true)`);
}

import type { Executor } from '@switchboard/db';
import { transactionMemo } from '@switchboard/worker';
import { sql } from 'drizzle-orm';

export interface Settings {
  autoAssign: boolean;
  idleMinutes: number;
  stuckHours: number;
  stuckAction: 'complete' | 'flag';
}
export const DEFAULT_SETTINGS: Settings = { autoAssign: false, idleMinutes: 10, stuckHours: 24, stuckAction: 'flag' };

/** A tenant's assignment settings, or the defaults for a tenant that set none. */
export async function settingsOf(tx: Executor, tenantId: string): Promise<Settings> {
  const r = await tx.execute<{
    auto_assign: boolean;
    idle_minutes: number;
    stuck_hours: number;
    stuck_action: string;
  }>(sql`
    select auto_assign, idle_minutes, stuck_hours, stuck_action from assignment_settings where tenant_id = ${tenantId}`);
  const row = r.rows[0];
  if (!row) return DEFAULT_SETTINGS;
  return {
    autoAssign: row.auto_assign,
    idleMinutes: row.idle_minutes,
    stuckHours: row.stuck_hours,
    stuckAction: row.stuck_action === 'complete' ? 'complete' : 'flag',
  };
}

/** Settings read by this transaction, by tenant (a unit of work's memo; see `settingsOnce`). */
const readBy = transactionMemo<Map<string, Settings>>();

/**
 * A tenant's settings, read once per transaction: a batch's events share one read. This worker never writes the
 * settings, so a transaction's first read stays true for it.
 */
export async function settingsOnce(tx: Executor, tenantId: string): Promise<Settings> {
  const read = readBy.get(tx) ?? new Map<string, Settings>();
  readBy.set(tx, read);
  const known = read.get(tenantId);
  if (known) return known;
  const settings = await settingsOf(tx, tenantId);
  read.set(tenantId, settings);
  return settings;
}

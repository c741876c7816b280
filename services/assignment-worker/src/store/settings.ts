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

/** A tenant's `assignment_settings` row as Postgres returns it (`settingsOf`, or `settingsColumn` as json). */
export type SettingsRow = {
  auto_assign: boolean;
  idle_minutes: number;
  stuck_hours: number;
  stuck_action: string;
};

/** The settings of a row, or the defaults for a tenant that set none. */
function toSettings(row: SettingsRow | null | undefined): Settings {
  if (!row) return DEFAULT_SETTINGS;
  return {
    autoAssign: row.auto_assign,
    idleMinutes: row.idle_minutes,
    stuckHours: row.stuck_hours,
    stuckAction: row.stuck_action === 'complete' ? 'complete' : 'flag',
  };
}

/** A tenant's assignment settings, or the defaults for a tenant that set none. */
export async function settingsOf(tx: Executor, tenantId: string): Promise<Settings> {
  const r = await tx.execute<SettingsRow>(sql`
    select auto_assign, idle_minutes, stuck_hours, stuck_action from assignment_settings where tenant_id = ${tenantId}`);
  return toSettings(r.rows[0]);
}

/**
 * The tenant's settings row as one json value (null: none set), for a statement that reads them
 * beside what it is for (a batch's chat locks: `lockChats`), so a batch needs no round trip of
 * its own for them; the caller hands the value to `rememberSettings`.
 */
export const settingsColumn = (tenantId: string) => sql`(
  select to_jsonb(s) from (
    select auto_assign, idle_minutes, stuck_hours, stuck_action from assignment_settings where tenant_id = ${tenantId}) s)`;

/** Settings read by this transaction, by tenant (a unit of work's memo; see `settingsOnce`). */
const readBy = transactionMemo<Map<string, Settings>>();

/**
 * A tenant's settings, read once per transaction: a batch's events share one read. This worker never writes the
 * settings, so a transaction's first read stays true for it.
 */
export async function settingsOnce(tx: Executor, tenantId: string): Promise<Settings> {
  const known = readBy.get(tx)?.get(tenantId);
  if (known) return known;
  const settings = await settingsOf(tx, tenantId);
  remember(tx, tenantId, settings);
  return settings;
}

/**
 * Settings a statement of this transaction read beside others (`settingsColumn`): `settingsOnce`
 * hands them out for the rest of the transaction instead of reading them again.
 */
export function rememberSettings(tx: Executor, tenantId: string, row: SettingsRow | null): void {
  remember(tx, tenantId, toSettings(row));
}

function remember(tx: Executor, tenantId: string, settings: Settings): void {
  const read = readBy.get(tx) ?? new Map<string, Settings>();
  readBy.set(tx, read);
  read.set(tenantId, settings);
}

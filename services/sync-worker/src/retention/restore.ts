import { transaction } from '@switchboard/db';
import type pg from 'pg';
import {
  advanceSequences,
  dropTriggerHistory,
  erasedAmong,
  insertArchivedRows,
  restorableTable,
  restoreColumns,
} from '../store/archive-restore.ts';
import { RESTORE_ORDER } from '../store/retention-parts.ts';
import { type ArchiveLine, readArchive } from './archive-file.ts';

export interface RestoreResult {
  /** Rows inserted per table (rows already there are skipped, not counted). */
  inserted: Record<string, number>;
  /** Column values written back (cleared email bodies, unlinked parents). */
  restoredColumns: number;
  /** Customers of the archive this database had erased, erased again after the restore. */
  reErased: number;
}

/** Re-applies an erasure to what a restore brought back (see erasure/erase.ts). */
export type ReErase = (client: pg.PoolClient, tenantId: string, customerId: string) => Promise<void>;

/**
 * Restores archives into the database at `pool`, all in one transaction (all or nothing): every
 * row and context row of every file, parents first whatever the files' order (a messages archive
 * older than its conversation's restores with it), each row inserted once (`on conflict do
 * nothing`, so a row archived twice or already present is skipped), then the cleared columns
 * written back, then the id sequences moved past the restored ids. The insert trigger's status
 * rows for restored conversations and tickets are replaced by their archived history. A customer
 * this database has erased (GDPR) is erased again before the commit: a restore never brings back
 * what an erasure removed.
 */
export async function restoreArchives(pool: pg.Pool, paths: string[], reErase?: ReErase): Promise<RestoreResult> {
  const rows = new Map<string, Record<string, unknown>[]>();
  const sets: Array<Extract<ArchiveLine, { op: 'set' }>> = [];
  for (const path of paths) {
    for await (const line of readArchive(path)) {
      if (line.op === 'batch') continue;
      restorableTable(line.table);
      if (line.op === 'set') sets.push(line);
      else rows.set(line.table, [...(rows.get(line.table) ?? []), line.row]);
    }
  }
  return transaction(pool, async (_tx, client) => {
    const inserted: Record<string, number> = {};
    for (const table of RESTORE_ORDER) {
      const r = rows.get(table);
      if (!r) continue;
      if (table === 'status_history') {
        const entities = [...(rows.get('conversations') ?? []), ...(rows.get('tickets') ?? [])].map((x) =>
          String(x.id),
        );
        await dropTriggerHistory(client, entities);
      }
      inserted[table] = await insertArchivedRows(client, table, r);
    }
    let restoredColumns = 0;
    for (const s of sets) restoredColumns += await restoreColumns(client, s.table, s.key, s.row);
    await advanceSequences(client, [...rows.keys()]);
    const customers = (rows.get('customers') ?? []).map((c) => String(c.id));
    const erased = await erasedAmong(client, customers);
    for (const e of erased) await reErase?.(client, e.tenantId, e.customerId);
    return { inserted, restoredColumns, reErased: reErase ? erased.length : 0 };
  });
}

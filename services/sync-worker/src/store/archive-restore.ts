import type pg from 'pg';
import { RESTORE_ORDER } from './retention-parts.ts';

/** The tables an archive may name; anything else in a file is refused, never interpolated. */
const RESTORABLE = new Set<string>(RESTORE_ORDER);
const IDENT = /^[a-z_][a-z0-9_]*$/;

export function restorableTable(table: string): string {
  if (!RESTORABLE.has(table)) throw new Error(`an archive names a table restore does not write: ${table}`);
  return table;
}

async function columnsOf(client: pg.PoolClient, table: string): Promise<Set<string>> {
  const res = await client.query<{ c: string }>(
    `select column_name as c from information_schema.columns where table_schema = current_schema() and table_name = $1`,
    [table],
  );
  return new Set(res.rows.map((r) => r.c));
}

/** Inserts archived rows of one table that are not there yet (a row archived twice lands once); returns how many. */
export async function insertArchivedRows(
  client: pg.PoolClient,
  table: string,
  rows: Record<string, unknown>[],
): Promise<number> {
  const t = restorableTable(table);
  let inserted = 0;
  for (let i = 0; i < rows.length; i += 1000) {
    const res = await client.query(
      `insert into ${t} select * from jsonb_populate_recordset(null::${t}, $1::jsonb) on conflict do nothing`,
      [JSON.stringify(rows.slice(i, i + 1000))],
    );
    inserted += res.rowCount ?? 0;
  }
  return inserted;
}

/**
 * The status history the insert triggers (migration 0004) wrote for conversations and tickets this
 * transaction restored: the archive holds their real history, restored after this.
 */
export async function dropTriggerHistory(client: pg.PoolClient, entityIds: string[]): Promise<void> {
  if (entityIds.length === 0) return;
  await client.query(
    'delete from status_history where xmin = pg_current_xact_id()::xid and entity_id = any($1::uuid[])',
    [entityIds],
  );
}

/** Writes archived column values back (`set` lines: a cleared email body, an unlinked parent). */
export async function restoreColumns(
  client: pg.PoolClient,
  table: string,
  key: Record<string, unknown>,
  row: Record<string, unknown>,
): Promise<number> {
  const t = restorableTable(table);
  const cols = await columnsOf(client, t);
  const names = (o: Record<string, unknown>) => {
    const ks = Object.keys(o);
    for (const k of ks) if (!IDENT.test(k) || !cols.has(k)) throw new Error(`no column ${t}.${k}`);
    return ks;
  };
  const set = names(row).map((c) => `${c} = r.${c}`);
  const where = names(key).map((c) => `x.${c} = k.${c}`);
  if (set.length === 0 || where.length === 0) return 0;
  const res = await client.query(
    `update ${t} x set ${set.join(', ')}
       from jsonb_populate_record(null::${t}, $1::jsonb) r, jsonb_populate_record(null::${t}, $2::jsonb) k
      where ${where.join(' and ')}`,
    [JSON.stringify(row), JSON.stringify(key)],
  );
  return res.rowCount ?? 0;
}

/** Moves each restored table's id sequence past the ids restored, so the next insert does not collide. */
export async function advanceSequences(client: pg.PoolClient, tables: string[]): Promise<void> {
  for (const table of tables) {
    const t = restorableTable(table);
    const seq = (
      await client.query<{ s: string | null }>(
        `select pg_get_serial_sequence(table_name, column_name) as s from information_schema.columns
          where table_schema = current_schema() and table_name = $1 and column_name = 'id'`,
        [t],
      )
    ).rows[0]?.s;
    if (!seq) continue;
    await client.query(
      `select setval($1::text::regclass, m) from (select max(id) as m from ${t}) x
        where m is not null and m > coalesce((select last_value from pg_sequences
                                              where schemaname || '.' || sequencename = $1::text), 0)`,
      [seq],
    );
  }
}

/** Of these customers, those this database has erased (their restored data must be erased again). */
export async function erasedAmong(
  client: pg.PoolClient,
  customerIds: string[],
): Promise<Array<{ tenantId: string; customerId: string }>> {
  if (customerIds.length === 0) return [];
  const res = await client.query<{ tenant_id: string; customer_id: string }>(
    'select tenant_id, customer_id from customer_erasures where customer_id = any($1::uuid[])',
    [customerIds],
  );
  return res.rows.map((r) => ({ tenantId: r.tenant_id, customerId: r.customer_id }));
}

import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { ClientDatabase, Executor } from './client.ts';
import * as schema from './schema/index.ts';

/**
 * One drizzle instance per pooled connection, made on its first transaction: building one walks
 * the whole schema (its relational config), which cost more CPU than the transaction's own
 * statements when it was done per transaction. The pool reuses its client objects, and a client
 * it drops takes its instance with it.
 */
const perClient = new WeakMap<pg.PoolClient, ClientDatabase>();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `v` is a UUID in its text form (a tenant id, a row id) before it reaches SQL. */
export const isUuid = (v: string): boolean => UUID.test(v);

/**
 * The statement that makes `tenantId` the tenant of the current transaction: Row-Level Security
 * (migration 0020) shows and accepts only its rows until the transaction ends. Transaction-local,
 * so a pooled connection never carries one tenant's setting into another's work. The id is checked
 * to be a UUID before it becomes a literal (it is also what lets it share BEGIN's round trip).
 */
export function setTenantSql(tenantId: string): string {
  if (!isUuid(tenantId)) throw new Error(`not a tenant id: ${JSON.stringify(tenantId)}`);
  return `select set_config('app.tenant_id', '${tenantId}', true)`;
}

/** Makes `tenantId` the tenant of the rest of the open transaction on `client`. */
export async function setTenant(client: pg.PoolClient, tenantId: string): Promise<void> {
  await client.query(setTenantSql(tenantId));
}

export interface TransactionOptions {
  /** The tenant every statement runs under (Row-Level Security); none: only system tables are visible. */
  tenantId?: string | undefined;
}

/**
 * Runs `fn` in a transaction on a client of its own and always gives the client back; with
 * `tenantId`, under that tenant from its first statement (BEGIN and the setting share one round
 * trip). BEGIN/COMMIT are sent here rather than through drizzle's `transaction()`, which does not
 * release its client when BEGIN itself fails (as it does on a connection that a Postgres restart
 * just killed) and costs a round trip of its own for the setting. A client whose ROLLBACK failed
 * is broken: it is destroyed instead of going back to the pool. `fn` also gets the client
 * itself, for a named prepared statement or a change of tenant inside the transaction.
 */
export async function transaction<T>(
  pool: pg.Pool,
  fn: (tx: Executor, client: pg.PoolClient) => Promise<T>,
  opts: TransactionOptions = {},
): Promise<T> {
  const begin = opts.tenantId === undefined ? 'begin' : `begin; ${setTenantSql(opts.tenantId)}`;
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    let db = perClient.get(client);
    if (!db) {
      db = drizzle(client, { schema });
      perClient.set(client, db);
    }
    try {
      await client.query(begin);
      const result = await fn(db, client);
      await client.query('commit');
      return result;
    } catch (err) {
      await client.query('rollback').catch((e: Error) => {
        broken = e;
      });
      throw err;
    }
  } finally {
    client.release(broken);
  }
}

/** A read (or write) as `tenantId`: one short transaction under that tenant. */
export const asTenant = <T>(pool: pg.Pool, tenantId: string, fn: (tx: Executor) => Promise<T>): Promise<T> =>
  transaction(pool, (tx) => fn(tx), { tenantId });

/** `asTenant` for plain SQL: the transaction's client itself. */
export const asTenantClient = <T>(
  pool: pg.Pool,
  tenantId: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> => transaction(pool, (_tx, client) => fn(client), { tenantId });

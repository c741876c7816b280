import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { Executor } from './client.ts';
import * as schema from './schema/index.ts';

/**
 * One drizzle instance per pooled connection, made on its first transaction: building one walks
 * the whole schema (its relational config), which cost more CPU than the transaction's own
 * statements when it was done per transaction. The pool reuses its client objects, and a client
 * it drops takes its instance with it.
 */
type ClientDb = ReturnType<typeof drizzle<typeof schema, pg.PoolClient>>;
const perClient = new WeakMap<pg.PoolClient, ClientDb>();

/**
 * Runs `fn` in a transaction on a client of its own and always gives the client back.
 * drizzle's pooled `transaction()` does not release its client when BEGIN itself fails (as it
 * does on a connection that a Postgres restart just killed), which leaks pool slots until the
 * pool is exhausted and `pool.end()` never returns. A broken client is dropped by the pool.
 * `fn` also gets the client itself, for a named prepared statement inside the transaction.
 */
export async function transaction<T>(
  pool: pg.Pool,
  fn: (tx: Executor, client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    let db = perClient.get(client);
    if (!db) {
      db = drizzle(client, { schema });
      perClient.set(client, db);
    }
    return await db.transaction((tx) => fn(tx, client));
  } finally {
    client.release();
  }
}

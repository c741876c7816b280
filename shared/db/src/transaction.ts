import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { Executor } from './client.ts';
import * as schema from './schema/index.ts';

/**
 * Runs `fn` in a transaction on a client of its own and always gives the client back.
 * drizzle's pooled `transaction()` does not release its client when BEGIN itself fails (as it
 * does on a connection that a Postgres restart just killed), which leaks pool slots until the
 * pool is exhausted and `pool.end()` never returns. A broken client is dropped by the pool.
 */
export async function transaction<T>(pool: pg.Pool, fn: (tx: Executor) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await drizzle(client, { schema }).transaction(fn);
  } finally {
    client.release();
  }
}

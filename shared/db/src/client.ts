import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { PgClient } from './pg-client.ts';
import * as schema from './schema/index.ts';

export type Database = ReturnType<typeof drizzle<typeof schema>>;
/** Drizzle over one checked-out connection: what `transaction()` hands its work (shared/db/src/transaction.ts). */
export type ClientDatabase = ReturnType<typeof drizzle<typeof schema, pg.PoolClient>>;
/** A database or an open transaction: store functions take either and never open their own. */
export type Executor = Database | ClientDatabase | Parameters<Parameters<Database['transaction']>[0]>[0];

export interface Db {
  pool: pg.Pool;
  db: Database;
}

export function createDb(
  url: string,
  opts: { max?: number; applicationName?: string; settings?: Record<string, string> } = {},
): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'switchboard',
    // Session settings, sent in the startup packet (no extra round trip).
    ...(opts.settings
      ? {
          options: Object.entries(opts.settings)
            .map(([k, v]) => `-c ${k}=${v}`)
            .join(' '),
        }
      : {}),
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // A statement cache, and one socket write per query (pg-client.ts).
    Client: PgClient,
  });
  // A client that loses its server emits 'error': the pool listens only while the client is idle,
  // so a client checked out between two statements of a transaction would crash the process. The
  // query in progress (or the next one) fails on its own and the caller's retry handles it.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return { pool, db: drizzle(pool, { schema }) };
}

export const postgresReady = (pool: pg.Pool) => async () => {
  await pool.query('select 1');
};

import { createDb, type Database } from '@switchboard/db';
import amqp from 'amqplib';
import pg from 'pg';
import { isConnectionError, unreachable } from './errors.ts';

/** Runs `fn` with a one-connection Drizzle handle; an unreachable Postgres is one clear line. */
export async function withDb<T>(url: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const { pool, db } = createDb(url, { max: 1, applicationName: 'switchboard-cli' });
  try {
    await pool.query('select 1').catch((err: unknown) => {
      throw unreachable('Postgres', url, err);
    });
    return await fn(db);
  } finally {
    await pool.end();
  }
}

/** Runs `fn` with a small pool and its Drizzle handle, for code that takes a pool (retention, erasure). */
export async function withPool<T>(url: string, fn: (pool: pg.Pool, db: Database) => Promise<T>): Promise<T> {
  const { pool, db } = createDb(url, { max: 2, applicationName: 'switchboard-cli' });
  try {
    await pool.query('select 1').catch((err: unknown) => {
      throw unreachable('Postgres', url, err);
    });
    return await fn(pool, db);
  } finally {
    await pool.end();
  }
}

/** A plain pg client, for the code that takes one (the legacy import). */
export async function withPgClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'switchboard-cli' });
  await client.connect().catch((err: unknown) => {
    throw unreachable('Postgres', url, err);
  });
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Runs `fn` with an AMQP connection; an unreachable RabbitMQ is one clear line. */
export async function withAmqp<T>(url: string, fn: (conn: amqp.ChannelModel) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(url).catch((err: unknown) => {
    throw unreachable('RabbitMQ', url, err);
  });
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

/** Rethrows a connection failure from code that connects by itself (the migrator) as one line. */
export const orUnreachable = (what: string, url: string) => (err: unknown) => {
  throw isConnectionError(err) ? unreachable(what, url, err) : err;
};

import { createHash } from 'node:crypto';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
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
  return onClient(pool, async (client) => {
    let db = perClient.get(client);
    if (!db) {
      db = drizzle(client, { schema });
      perClient.set(client, db);
    }
    await client.query(begin);
    const result = await fn(db, client);
    await client.query('commit');
    return result;
  });
}

/**
 * `work` on a pooled client of its own, the client always given back: when `work` fails, what it
 * left open is rolled back first, and a client whose ROLLBACK failed is broken, so it is destroyed
 * instead of going back to the pool (a ROLLBACK with no transaction open only warns).
 */
async function onClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await work(client);
  } catch (err) {
    await client.query('rollback').catch((e: Error) => {
      broken = e;
    });
    throw err;
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

/**
 * A statement prepared once per connection: `name` (an SQL identifier; the prepared statement is
 * named after it and its text, so a statement built in more than one shape prepares each) and its
 * text with `$n` placeholders and their values, as drizzle's `sqlToQuery` gives them.
 */
export interface PreparedStatement {
  name: string;
  text: string;
  values: unknown[];
}

/** The names of the statements prepared on each pooled connection. */
const preparedOn = new WeakMap<pg.PoolClient, Set<string>>();

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,40}$/;

/**
 * `value` as an SQL literal in the text form the extended protocol would have sent it in: a
 * quoted, escaped string (node-postgres's `escapeLiteral`), which Postgres coerces to the
 * parameter's type as it does a bound value. Only strings, finite numbers and booleans are
 * sent; null is NULL; anything else is refused rather than guessed at.
 */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return pg.escapeLiteral(value);
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean')
    return pg.escapeLiteral(String(value));
  throw new Error(`not a value for an SQL literal: ${typeof value}`);
}

/** Prepares `text` as `name` on `client` unless it was already. */
async function ensurePrepared(client: pg.PoolClient, name: string, text: string): Promise<void> {
  let prepared = preparedOn.get(client);
  if (!prepared) {
    prepared = new Set();
    preparedOn.set(client, prepared);
  }
  if (prepared.has(name)) return;
  await client.query(`prepare ${name} as ${text}`);
  prepared.add(name);
}

/**
 * Runs one statement as a transaction of its own under `tenantId`, in one round trip: BEGIN, the
 * tenant's transaction-local setting (`setTenantSql`), `execute` of the statement and COMMIT go to
 * Postgres as one simple-protocol message, so the connection is held for one round trip rather
 * than three (BEGIN with the setting, the statement, COMMIT). The statement is prepared on its
 * connection the first time (`prepare`, one round trip per connection) and keeps its cached plan
 * as a protocol-level prepared statement would; its values go as escaped literals, the tenant id
 * only once checked to be a UUID. The setting ends with the transaction, so the pooled connection
 * carries no tenant into its next work; a failure rolls back, and a connection whose ROLLBACK
 * failed is destroyed (as in `transaction`). For a statement that is the whole unit of work:
 * anything that must commit with it (an outbox row) is written by the statement itself.
 */
export async function statementInTenant<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  tenantId: string,
  statement: PreparedStatement,
): Promise<R[]> {
  const { text, values } = statement;
  if (!IDENTIFIER.test(statement.name)) throw new Error(`not a statement name: ${JSON.stringify(statement.name)}`);
  const name = `${statement.name}_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
  const setTenant = setTenantSql(tenantId);
  const args = values.length > 0 ? `(${values.map(literal).join(', ')})` : '';
  return onClient(pool, async (client) => {
    await ensurePrepared(client, name, text);
    // Four statements, four results: the third is the statement's.
    const results = (await client.query(
      `begin; ${setTenant}; execute ${name}${args}; commit`,
    )) as unknown as pg.QueryResult<R>[];
    const result = results[2];
    if (!result) throw new Error(`execute ${name}: no result`);
    return result.rows;
  });
}

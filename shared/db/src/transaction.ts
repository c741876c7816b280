import { createHash } from 'node:crypto';
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
  const { value } = await bracketedTransaction(pool, opts, async (tx, client) => ({ value: await fn(tx, client) }));
  return value;
}

/** A statement sent as text with a transaction's BEGIN or COMMIT: a prepared one (`executeText`) or plain SQL. */
export type Bracketed = PreparedStatement | string;

export interface BracketOptions extends TransactionOptions {
  /** Sent with BEGIN (after the tenant's setting), in its round trip; its rows reach `fn` as `first`. */
  first?: Bracketed | undefined;
}

/**
 * `transaction` whose first and last round trips carry statements of the work's own: `first`
 * goes to Postgres in one message with BEGIN, and the statements `fn` returns as `last` in one
 * message with COMMIT, their rows returned in order. A unit of work that begins with its inbox
 * claim and ends with its outbox append saves a round trip at each end (two at the end when it
 * also reads a setting). The messages use the simple protocol, so the statements' values travel
 * as literals (`executeText`). An error in any of them aborts the rest of its message, COMMIT
 * included: the transaction rolls back as when a statement of `fn` fails.
 */
export async function bracketedTransaction<T>(
  pool: pg.Pool,
  opts: BracketOptions,
  fn: (
    tx: Executor,
    client: pg.PoolClient,
    first: pg.QueryResultRow[],
  ) => Promise<{ value: T; last?: Bracketed[] | undefined }>,
): Promise<{ value: T; last: pg.QueryResultRow[][] }> {
  return onClient(pool, async (client) => {
    let db = perClient.get(client);
    if (!db) {
      db = drizzle(client, { schema });
      perClient.set(client, db);
    }
    const begin = ['begin', ...(opts.tenantId === undefined ? [] : [setTenantSql(opts.tenantId)])];
    const first = opts.first === undefined ? [] : [await statementText(client, opts.first)];
    const opened = await simpleQuery(client, [...begin, ...first]);
    const { value, last = [] } = await fn(db, client, first.length > 0 ? (opened.at(-1) ?? []) : []);
    const texts = [];
    for (const statement of last) texts.push(await statementText(client, statement));
    const closed = await simpleQuery(client, [...texts, 'commit']);
    return { value, last: closed.slice(0, texts.length) };
  });
}

/** Statements sent as one simple-protocol message: one round trip, each statement's rows in order. */
async function simpleQuery(client: pg.PoolClient, statements: string[]): Promise<pg.QueryResultRow[][]> {
  const res = (await client.query(statements.join('; '))) as unknown as pg.QueryResult | pg.QueryResult[];
  return (Array.isArray(res) ? res : [res]).map((r) => r.rows);
}

const statementText = (client: pg.PoolClient, s: Bracketed): Promise<string> =>
  typeof s === 'string' ? Promise.resolve(s) : executeText(client, s);

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

/**
 * The names of the statements prepared on each session, keyed by the client's wire connection:
 * the session they live in, and the same object through any wrapper of the client.
 */
const preparedOn = new WeakMap<object, Set<string>>();
const sessionOf = (client: pg.PoolClient): object => (client as { connection?: object }).connection ?? client;

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,40}$/;

/**
 * `value` as an SQL literal in the text form the extended protocol would have sent it in: a
 * quoted, escaped string (node-postgres's `escapeLiteral`), which Postgres coerces to the
 * parameter's type as it does a bound value. Strings, finite numbers, booleans and arrays of
 * strings (an array's text form: each element double-quoted, its quotes and backslashes
 * escaped) are sent; null is NULL; anything else is refused rather than guessed at.
 */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return quote(value);
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return quote(String(value));
  if (Array.isArray(value) && value.every((v) => typeof v === 'string'))
    return quote(`{${value.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`);
  throw new Error(`not a value for an SQL literal: ${typeof value}`);
}

/**
 * `text` as a quoted SQL string, as node-postgres's `escapeLiteral` writes it (quotes doubled; with
 * a backslash in it, an E'' string with backslashes doubled), but by the engine's replace rather
 * than a character loop: an outbox append's JSON can be tens of kilobytes.
 */
function quote(text: string): string {
  return text.includes('\\') ? ` E'${text.replace(/['\\]/g, '$&$&')}'` : `'${text.replaceAll("'", "''")}'`;
}

/** Prepares `text` as `name` on `client` unless it was already. */
async function ensurePrepared(client: pg.PoolClient, name: string, text: string): Promise<void> {
  const session = sessionOf(client);
  let prepared = preparedOn.get(session);
  if (!prepared) {
    prepared = new Set();
    preparedOn.set(session, prepared);
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
  const setTenant = setTenantSql(tenantId);
  return onClient(pool, async (client) => {
    const execute = await executeText(client, statement);
    // Four statements, four results: the third is the statement's.
    const results = await simpleQuery(client, ['begin', setTenant, execute, 'commit']);
    const rows = results[2];
    if (!rows) throw new Error(`${execute.slice(0, 60)}: no result`);
    return rows as R[];
  });
}

/** The prepared statements' names by their text: `name` plus a hash of the text, computed once. */
const preparedNames = new Map<string, string>();

/**
 * `statement` as the text of an `execute` with its values as literals, prepared on `client`
 * first (one round trip, once per connection) under its name and a hash of its text, so it keeps
 * its cached plan as a protocol-level prepared statement would.
 */
export async function executeText(client: pg.PoolClient, statement: PreparedStatement): Promise<string> {
  const { text, values } = statement;
  if (!IDENTIFIER.test(statement.name)) throw new Error(`not a statement name: ${JSON.stringify(statement.name)}`);
  const key = `${statement.name}\0${text}`;
  let name = preparedNames.get(key);
  if (name === undefined) {
    name = `${statement.name}_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    if (preparedNames.size < 1_000) preparedNames.set(key, name);
  }
  await ensurePrepared(client, name, text);
  return values.length > 0 ? `execute ${name}(${values.map(literal).join(', ')})` : `execute ${name}`;
}

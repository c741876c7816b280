import { createHash } from 'node:crypto';
import pg from 'pg';

/** A parameterized statement is named (prepared on the connection) from its second use on. */
const NAME_FROM_USE = 2;
/** Statements named per connection at most; past it, new texts stay unnamed (a text of many shapes cannot grow the server's memory). */
const MAX_NAMED = 100;
/** Texts counted per connection at most before the count starts over. */
const MAX_COUNTED = 1_000;

interface QueryConfigLike {
  text?: unknown;
  name?: unknown;
  values?: unknown;
}

/**
 * The pools' pg client (`createDb`): node-postgres, with two things the driver leaves out.
 *
 * **A statement cache**, as pgjdbc and postgres.js keep: a parameterized statement (drizzle's,
 * which node-postgres sends unnamed) is given a name, its text's hash, the second time this
 * connection sees its text, and from then on it is parsed once, and its plan is cached by
 * Postgres (a generic plan after five custom ones, when that is no dearer) instead of parsed,
 * analyzed and planned at every execution. Profiled at 300 msg/s, planning and parsing were about
 * a third of Postgres's CPU, mostly the batches' unnamed statements. Bounded: at most `MAX_NAMED`
 * statements per connection; once that many are named, further texts stay unnamed. Statements
 * with no values (BEGIN, COMMIT, a simple-protocol message of several statements) are never
 * named. A named statement is the server's until its connection closes; Postgres re-plans one
 * whose tables changed, and one whose result columns changed fails once and is then sent unnamed
 * (`#retireIfStale`). Needs session pooling if a pooler sits in between, as the relay's LISTEN
 * already does (the design's PgBouncer note).
 *
 * **One write per query.** node-postgres writes each message of the extended protocol (parse,
 * bind, describe, execute, sync) to the socket on its own: with TCP_NODELAY (which it sets),
 * four or five syscalls and packets per statement, each of which the server may wake for. The
 * socket is corked while a query is handed to the connection, so its messages leave in one
 * `writev`. A query that waits behind another is sent later, uncorked, as before.
 */
export class PgClient extends pg.Client {
  readonly #uses = new Map<string, number>();
  readonly #named = new Map<string, string>();
  /** Texts whose prepared statement a schema change made unusable: sent unnamed from then on. */
  readonly #retired = new Set<string>();

  // biome-ignore lint/suspicious/noExplicitAny: pg's query() has a dozen overloads; every call passes through unchanged but for the name.
  override query(config: any, values?: any, callback?: any): any {
    const query = typeof config === 'string' ? { text: config } : config;
    const named = this.#name(query, values);
    const { stream } = this.connection;
    stream.cork();
    let result: unknown;
    try {
      result = super.query(named === undefined ? config : { ...query, name: named }, values, callback);
    } finally {
      stream.uncork();
    }
    if (named !== undefined && result instanceof Promise) {
      // Observed, not handled: the caller still gets the rejection.
      result.then(undefined, (err: unknown) => this.#retireIfStale(query.text, err));
    }
    return result;
  }

  /**
   * A table a named statement returns rows of changed shape under it (a migration added a column
   * while this process ran): Postgres refuses that statement for good ("cached plan must not
   * change result type"). The failed unit of work is retried by its caller; the text is sent
   * unnamed from then on, so the retry plans afresh.
   */
  #retireIfStale(text: string, err: unknown): void {
    const e = err as { code?: string; message?: string };
    if (e.code !== '0A000' || !e.message?.includes('cached plan must not change result type')) return;
    this.#named.delete(text);
    this.#retired.add(text);
  }

  #name(config: unknown, values: unknown): string | undefined {
    // Plain query objects only: a submittable (a cursor, a stream) keeps its own shape.
    if (typeof config !== 'object' || config === null || Object.getPrototypeOf(config) !== Object.prototype)
      return undefined;
    const c = config as QueryConfigLike;
    if (c.name !== undefined || typeof c.text !== 'string') return undefined;
    const params = Array.isArray(values) ? values : c.values;
    if (!Array.isArray(params) || params.length === 0) return undefined;
    const text = c.text;
    const known = this.#named.get(text);
    if (known !== undefined) return known;
    if (this.#retired.has(text)) return undefined;
    const uses = (this.#uses.get(text) ?? 0) + 1;
    if (uses < NAME_FROM_USE || this.#named.size >= MAX_NAMED) {
      if (this.#uses.size >= MAX_COUNTED) this.#uses.clear();
      this.#uses.set(text, uses);
      return undefined;
    }
    this.#uses.delete(text);
    const name = `auto_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    this.#named.set(text, name);
    return name;
  }
}

import { appendOutbox, claimInboxMany, type Executor, type OutboxEntry, transaction } from '@switchboard/db';
import { type Count, recordCounts } from '@switchboard/platform';
import type pg from 'pg';
import type { AfterCommit, Effects } from './route.ts';

/**
 * One unit of work as it runs: its transaction, the inbox, and the effects it collects. Nothing
 * collected here leaves the transaction before it commits.
 */
export interface Unit<M> {
  readonly tx: Executor;
  /** The transaction's own connection, for a named prepared statement on the hot path. */
  readonly client: pg.PoolClient;
  /** Claims event ids in the inbox for `consumer`; returns the ids this transaction claimed (not seen before). */
  claim: (consumer: string, eventIds: string[]) => Promise<Set<string>>;
  /** Events, counts and after-commit hooks of what was applied. */
  record: (effects: Partial<Effects<M>>) => void;
}

export interface UnitDeps<M> {
  pool: pg.Pool;
  metrics: M;
  /**
   * Runs last in every unit's transaction, after its outbox append; the hook it returns runs
   * after the commit (the sync-worker reads which lookup keys the transaction's writes touched,
   * then tells its read cache once they are committed).
   */
  beforeCommit?: (tx: Executor) => Promise<AfterCommit | undefined>;
}

/**
 * Runs `work` in one transaction: what it records is appended to the outbox in that transaction
 * (no event without its commit, no commit without its event); once it committed, its counts are
 * recorded and its after-commit hooks run, in order. A rollback (an error thrown by `work` or by
 * the commit) records nothing and runs nothing, so work tried again counts once. A hook handles
 * its own failures (the idle checks count theirs): one that throws reaches the caller after the
 * commit, and a consumer would retry work that is already applied (the inbox then skips it).
 */
export async function unitOfWork<M, T>(deps: UnitDeps<M>, work: (unit: Unit<M>) => Promise<T>): Promise<T> {
  const outbox: OutboxEntry[] = [];
  const counts: Count<M>[] = [];
  const hooks: AfterCommit[] = [];
  const result = await transaction(deps.pool, async (tx, client) => {
    const unit: Unit<M> = {
      tx,
      client,
      claim: (consumer, ids) => claimInboxMany(client, consumer, ids),
      record: (e) => {
        outbox.push(...(e.outbox ?? []));
        counts.push(...(e.counts ?? []));
        hooks.push(...(e.afterCommit ?? []));
      },
    };
    const r = await work(unit);
    await appendOutbox(client, outbox);
    const last = await deps.beforeCommit?.(tx);
    if (last) hooks.push(last);
    return r;
  });
  recordCounts(deps.metrics, counts);
  for (const hook of hooks) await hook();
  return result;
}

/** A unit of work that is one statement on a pooled connection (see `statementUnit`). */
export interface StatementUnit<M> {
  /**
   * The connection the statement runs on, for a named prepared statement, and for any read after
   * it: taking a second connection from the pool while this one is held can exhaust the pool
   * under load (every caller holding one, waiting for another).
   */
  readonly client: pg.PoolClient;
  /** Counts and after-commit hooks; its events ride in the statement itself (there is no outbox step). */
  record: (effects: Partial<Omit<Effects<M>, 'outbox'>>) => void;
}

/**
 * A unit of work whose writes are one statement, its own transaction: Postgres commits it when it
 * returns, every CTE in it included, so its outbox insert must be one of them (no event without
 * its commit, no commit without its event, as in `unitOfWork`). It costs one round trip where
 * `unitOfWork` costs begin, the work, the outbox insert and commit: for a hot path that writes
 * in one statement (next-chat's claim). `work` runs that statement, then only reads; once it
 * returned, what it recorded is counted and its hooks run, in order. A statement that fails
 * committed nothing, and nothing is counted or run.
 */
export async function statementUnit<M, T>(
  deps: Pick<UnitDeps<M>, 'pool' | 'metrics'>,
  work: (unit: StatementUnit<M>) => Promise<T>,
): Promise<T> {
  const counts: Count<M>[] = [];
  const hooks: AfterCommit[] = [];
  const client = await deps.pool.connect();
  let result: T;
  try {
    result = await work({
      client,
      record: (e) => {
        counts.push(...(e.counts ?? []));
        hooks.push(...(e.afterCommit ?? []));
      },
    });
  } finally {
    client.release();
  }
  recordCounts(deps.metrics, counts);
  for (const hook of hooks) await hook();
  return result;
}

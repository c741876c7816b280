import {
  bracketedTransaction,
  type Executor,
  inboxClaimStatement,
  type OutboxEntry,
  outboxAppendStatement,
  type PreparedStatement,
  setTenant,
} from '@switchboard/db';
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
  /** Of the event ids `opts.claim` named, those this transaction claimed in the inbox (not seen before). */
  readonly claimed: Set<string>;
  /** Events, counts and after-commit hooks of what was applied. */
  record: (effects: Partial<Effects<M>>) => void;
  /**
   * Makes `tenantId` the tenant of the statements that follow (Row-Level Security): work over
   * several tenants (a batch, a sweep) runs each tenant's group under its own tenant.
   */
  asTenant: (tenantId: string) => Promise<void>;
}

export interface UnitDeps<M> {
  pool: pg.Pool;
  metrics: M;
  /**
   * Read last in every unit's transaction, after its outbox append and in COMMIT's round trip;
   * the hook `afterCommit` makes of its rows runs after the commit (the sync-worker reads which lookup
   * keys the transaction's writes touched, then tells its read cache once they are committed).
   */
  beforeCommit?: CommitRead | undefined;
}

/** A read sent with a unit of work's COMMIT (one statement), and what its rows make to run after the commit. */
export interface CommitRead {
  sql: string;
  afterCommit: (rows: Record<string, unknown>[]) => AfterCommit | undefined;
}

/**
 * What a unit of work's statements learned that holds until its transaction ends (rows it locked
 * and read, settings it read), keyed by the transaction's executor. A pooled connection keeps one
 * executor from one transaction to the next (shared/db), so every unit of work empties these for
 * its executor as it begins: an entry never outlives the transaction that made it into the next
 * unit on that connection. Only work inside a unit of work may read or fill them.
 */
const memos: WeakMap<Executor, unknown>[] = [];

/** A memo of one transaction's own (see `memos`): filled and read inside a unit of work only. */
export function transactionMemo<V>(): WeakMap<Executor, V> {
  const memo = new WeakMap<Executor, V>();
  memos.push(memo);
  return memo;
}

/**
 * Runs `work` in one transaction, under `opts.tenantId` when given (else under none until it
 * calls `unit.asTenant`; the inbox and outbox are system tables and need none): what it records is appended to the outbox in that transaction
 * (no event without its commit, no commit without its event); once it committed, its counts are
 * recorded and its after-commit hooks run, in order. A rollback (an error thrown by `work` or by
 * the commit) records nothing and runs nothing, so work tried again counts once. A hook handles
 * its own failures (the idle checks count theirs): one that throws reaches the caller after the
 * commit, and a consumer would retry work that is already applied (the inbox then skips it).
 * `opts.claim` claims event ids in the inbox with BEGIN (`unit.claimed`); the outbox append (up
 * to `FOLD_APPEND_CHARS` of JSON) and `deps.beforeCommit` go with COMMIT, so the transaction's
 * first and last round trips carry them.
 */
export async function unitOfWork<M, T>(
  deps: UnitDeps<M>,
  work: (unit: Unit<M>) => Promise<T>,
  opts: { tenantId?: string | undefined; claim?: { consumer: string; eventIds: string[] } | undefined } = {},
): Promise<T> {
  const outbox: OutboxEntry[] = [];
  const counts: Count<M>[] = [];
  const hooks: AfterCommit[] = [];
  const { value, last } = await bracketedTransaction(
    deps.pool,
    {
      tenantId: opts.tenantId,
      first: opts.claim && inboxClaimStatement(opts.claim.consumer, opts.claim.eventIds),
    },
    async (tx, client, first) => {
      for (const memo of memos) memo.delete(tx);
      const unit: Unit<M> = {
        tx,
        client,
        claimed: new Set(first.map((r) => String(r.event_id))),
        record: (e) => {
          outbox.push(...(e.outbox ?? []));
          counts.push(...(e.counts ?? []));
          hooks.push(...(e.afterCommit ?? []));
        },
        asTenant: (tenantId) => setTenant(client, tenantId),
      };
      const value = await work(unit);
      const append = outbox.length > 0 ? outboxAppendStatement(outbox) : undefined;
      // A large append (a flat-out batch's events) goes on its own, its JSON as a bound value:
      // the round trip it saves is shared by a hundred messages, and a literal that size is
      // escaped here and scanned by the server.
      if (append && !foldable(append)) await client.query(append);
      const withCommit = append && foldable(append) ? [append] : [];
      return { value, last: [...withCommit, ...(deps.beforeCommit ? [deps.beforeCommit.sql] : [])] };
    },
  );
  const read = deps.beforeCommit && last.at(-1);
  const after = read ? deps.beforeCommit?.afterCommit(read) : undefined;
  if (after) hooks.push(after);
  await committed(deps.metrics, { counts, afterCommit: hooks });
  return value;
}

/** The largest outbox append (its JSON, in characters) sent as a literal with COMMIT. */
const FOLD_APPEND_CHARS = 16_384;
const foldable = (append: PreparedStatement) => String(append.values[0]).length <= FOLD_APPEND_CHARS;

/**
 * What follows a unit of work's commit: its counts are recorded, then its after-commit hooks run,
 * in order. `unitOfWork` ends with it; a unit of work that is one statement committing on its own
 * (shared/db `statementInTenant`: next-chat's claim, which appends its own outbox row) calls it
 * once that statement returned.
 */
export async function committed<M>(metrics: M, effects: Pick<Effects<M>, 'counts' | 'afterCommit'>): Promise<void> {
  recordCounts(metrics, effects.counts);
  for (const hook of effects.afterCommit ?? []) await hook();
}

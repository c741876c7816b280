import type { CloudEvent } from '@switchboard/contracts';
import type { Executor, OutboxEntry } from '@switchboard/db';
import type { Count, Outcome } from '@switchboard/platform';
import type { z } from 'zod';

/**
 * What a worker plugs into the kit: the dependencies its handlers take, its metrics object (whose
 * counters and histograms `Count<M>` names) and what every route's `prepare` resolves at least
 * (the sync-worker: the channel an event came in on).
 */
export interface WorkerShape {
  deps: unknown;
  metrics: unknown;
  scope: unknown;
}

export type Prepared<P> = { ok: true; value: P } | { ok: false; outcome: Outcome };

/** Work the unit of work runs once the transaction committed (never inside it, never on rollback). */
export type AfterCommit = () => Promise<unknown> | undefined;

/** What work in a transaction produced: its events, what to count once it committed, what to run then. */
export interface Effects<M> {
  outbox: OutboxEntry[];
  counts: Count<M>[];
  afterCommit?: AfterCommit[];
}

export interface Applied<M> extends Effects<M> {
  outcome: Outcome;
}

export const noEffects = <M>(): Effects<M> => ({ outbox: [], counts: [] });

/**
 * How one kind of event is applied. `prepare` runs outside the transaction (resolve the channel or
 * tenant, validate what the schema cannot, or settle the event without a transaction: park, dead,
 * skipped); `apply` runs inside the batch's transaction, after the inbox claimed the events, for
 * every event of this kind in the batch, in delivery order, and returns one result per event.
 */
export interface RouteSpec<W extends WorkerShape, T, P extends W['scope']> {
  schema: z.ZodType<T>;
  prepare: (deps: W['deps'], event: CloudEvent<T>) => Promise<Prepared<P>>;
  /** Redis locks to hold for this event while the batch's transaction runs. */
  lockKeys: (p: P) => string[];
  apply: (
    tx: Executor,
    deps: W['deps'],
    items: Array<{ event: CloudEvent<T>; value: P }>,
  ) => Promise<Applied<W['metrics']>[]>;
}

/** A route with its payload types erased, so routes of different events share one table. */
export type Route<W extends WorkerShape> = RouteSpec<W, unknown, W['scope']>;

/**
 * Pairs a schema with the functions that apply it; a mismatch between them is a compile error
 * here. The erasure is sound because the runner only passes `prepare` what `schema` parsed, and
 * `apply` what `prepare` returned.
 */
export const route = <W extends WorkerShape, T, P extends W['scope']>(spec: RouteSpec<W, T, P>): Route<W> =>
  spec as unknown as Route<W>;

import type { CloudEvent } from '@switchboard/contracts';
import type { Executor, OutboxEntry } from '@switchboard/db';
import type { Outcome } from '@switchboard/platform';
import type { z } from 'zod';
import type { Deps } from '../deps.ts';
import type { Count } from '../metrics.ts';
import type { Channel } from '../store/channels.ts';

export type Prepared<P> = { ok: true; value: P } | { ok: false; outcome: Outcome };

/** What work in a transaction produced: its events, and what to count once it committed. */
export interface Effects {
  outbox: OutboxEntry[];
  counts: Count[];
}

export interface Applied extends Effects {
  outcome: Outcome;
}

export const noEffects = (): Effects => ({ outbox: [], counts: [] });

/**
 * What every route's `prepare` resolves: the channel the event came in on, and through it the
 * tenant whose data applying it may change (the batch handler invalidates that tenant's lookups).
 */
export interface ChannelScoped {
  channel: Channel;
}

/**
 * How one kind of inbound event is applied. `prepare` runs outside the transaction (resolve the
 * channel, validate what the schema cannot); `apply` runs inside the batch's transaction, after
 * the inbox claimed the events, for every event of this kind in the batch, in delivery order.
 */
export interface RouteSpec<T, P extends ChannelScoped> {
  schema: z.ZodType<T>;
  prepare: (deps: Deps, event: CloudEvent<T>) => Promise<Prepared<P>>;
  /** Redis locks to hold for this event while the batch's transaction runs. */
  lockKeys: (p: P) => string[];
  apply: (tx: Executor, deps: Deps, items: Array<{ event: CloudEvent<T>; value: P }>) => Promise<Applied[]>;
}

/** A route with its payload types erased, so routes of different events share one table. */
export type Route = RouteSpec<unknown, ChannelScoped>;

/**
 * Pairs a schema with the functions that apply it; a mismatch between them is a compile error
 * here. The erasure is sound because the runner only passes `prepare` what `schema` parsed, and
 * `apply` what `prepare` returned.
 */
export const route = <T, P extends ChannelScoped>(spec: RouteSpec<T, P>): Route => spec as unknown as Route;

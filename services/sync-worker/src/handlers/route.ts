import type { CloudEvent } from '@switchboard/contracts';
import type { DeliveryContext, Outcome } from '@switchboard/platform';
import type { z } from 'zod';
import type { Deps } from '../deps.ts';

export type EventHandler<T> = (deps: Deps, event: CloudEvent<T>, ctx: DeliveryContext) => Promise<Outcome>;

/** A schema and its handler, with the payload type erased so routes can share one table. */
export interface Route {
  schema: z.ZodType;
  handle: EventHandler<unknown>;
}

/**
 * Pairs a payload schema with its handler; a mismatch between the two is a compile error here.
 * The erasure is sound because the dispatcher only hands `handle` what `schema` parsed.
 */
export const route = <T>(schema: z.ZodType<T>, handle: EventHandler<T>): Route => ({
  schema,
  handle: handle as EventHandler<unknown>,
});

/** Thrown inside a transaction to roll it back when the work turns out to be done already. */
export class AlreadyApplied extends Error {
  override name = 'AlreadyApplied';
}

import type { Database } from '@switchboard/db';
import type { Delivery, Locks, Logger, Topology } from '@switchboard/platform';
import type pg from 'pg';
import type { LookupCache } from './lookup-cache.ts';
import type { Metrics } from './metrics.ts';
import type { ResolveChannel } from './store/channels.ts';

/** Everything a handler may touch, built once in `main.ts`. Handlers take a `Pick` of it. */
export interface Deps {
  db: Database;
  pool: pg.Pool;
  locks: Locks;
  logger: Logger;
  metrics: Metrics;
  names: Topology['names'];
  resolveChannel: ResolveChannel;
  now: () => Date;
  lock: { ttlMs: number; waitMs: number };
  /**
   * Parks the delivery of an event whose account no channel (or only a disabled one) claims:
   * copied unchanged to the consumer's parking queue with confirms, to be replayed once the
   * channel exists (see park.ts); never retried, never lost.
   */
  park?: (provider: string, reason: string, msg: Delivery['msg']) => Promise<void>;
  /** Read-API cache; told after each commit which tenants' data changed. */
  lookups?: Pick<LookupCache, 'invalidate'>;
}

/** The inbox name this service claims event ids under. */
export const CONSUMER = 'sync-worker';
export const SOURCE = '/switchboard/sync-worker';

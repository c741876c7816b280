import type { Database } from '@switchboard/db';
import type { Locks, Logger, Topology } from '@switchboard/platform';
import type { ResolveChannel, UnitDeps } from '@switchboard/worker';
import type pg from 'pg';
import type { LookupCache } from './lookup-cache.ts';
import type { Metrics } from './metrics.ts';
import type { KnownBusinessAccounts } from './store/business-accounts.ts';

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
  /** Read-API cache; told after each commit which lookup keys its writes touched. */
  lookups?: Pick<LookupCache, 'invalidate'>;
  /** The last step of every unit of work: reads what it touched for `lookups` (lookup-keys.ts). */
  beforeCommit?: UnitDeps<Metrics>['beforeCommit'];
  /** The WhatsApp Business Accounts this process saw stored, so messages skip their insert. */
  businessAccounts?: KnownBusinessAccounts;
}

/** The inbox name this service claims event ids under. */
export const CONSUMER = 'sync-worker';
export const SOURCE = '/switchboard/sync-worker';

import type { Database } from '@switchboard/db';
import type { Logger, Topology } from '@switchboard/platform';
import type { ResolveChannel } from '@switchboard/worker';
import type pg from 'pg';
import type { Background } from './background.ts';
import type { Metrics } from './metrics.ts';

export const CONSUMER = 'assignment-worker';
export const SOURCE = '/switchboard/assignment-worker';

/** One assignment's idle check, due `delayMs` after it began. */
export interface IdleCheck {
  tenantId: string;
  chatId: string;
  assignmentId: number;
  delayMs: number;
}

/** Scheduling of per-assignment idle checks (BullMQ in production). */
export interface IdleTimers {
  schedule(check: Omit<IdleCheck, 'delayMs'>, delayMs: number): Promise<void>;
}

export interface Deps {
  db: Database;
  pool: pg.Pool;
  names: Topology['names'];
  metrics: Metrics;
  logger: Logger;
  /** The worker's clock: when timers are due (idle, stuck) and when assignments begin and end. */
  now: () => Date;
  timers: IdleTimers;
  /** What runs on after an answer (next-chat's idle check); shutdown drains it before closing the timers. */
  background: Background;
  /** Provider account → channel: the worker kit's resolver, shared with the sync-worker. */
  resolveChannel: ResolveChannel;
}

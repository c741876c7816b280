import type { Database } from '@switchboard/db';
import { pruneInbox, pruneOutbox } from '@switchboard/db';
import type { Logger } from '@switchboard/platform';
import type pg from 'pg';

export interface RetentionOptions {
  db: Database;
  pool: pg.Pool;
  logger: Logger;
  /** Published events are kept this long for replay and audit. */
  outboxRetentionMs: number;
  /**
   * Applied event ids are kept this long; it must outlast any redelivery, including a replay
   * from the dead-letter queue (past it, the provider-id unique indexes still stop a double insert).
   */
  inboxRetentionMs: number;
  everyMs: number;
}

/** Prunes the inbox and the published outbox on a timer; replicas doing it twice is harmless. */
export function startRetention(opts: RetentionOptions): { stop: () => Promise<void> } {
  let running: Promise<void> | undefined;
  const prune = async () => {
    const now = Date.now();
    try {
      const outbox = await pruneOutbox(opts.pool, new Date(now - opts.outboxRetentionMs));
      const inbox = await pruneInbox(opts.db, new Date(now - opts.inboxRetentionMs));
      if (outbox + inbox > 0) opts.logger.info({ outbox, inbox }, 'pruned');
    } catch (err) {
      opts.logger.warn({ err }, 'pruning failed, will try again');
    }
  };
  const timer = setInterval(() => {
    running ??= prune().finally(() => {
      running = undefined;
    });
  }, opts.everyMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

import type { Config } from '../config.ts';
import type { Deps } from '../deps.ts';
import { closeInactiveConversations, inactivitySweep } from '../inactivity.ts';
import { expireRetainedData } from '../retention/expire.ts';
import { prune } from '../retention.ts';
import { type ScheduledJob, startScheduledJobs } from './schedule.ts';

/** The BullMQ queue the sync-worker's sweeps are scheduled on (one per deployment prefix). */
export const SWEEPS_QUEUE = 'sync-worker-sweeps';

/** The sync-worker's scheduled sweeps: retention (pruning, and per-tenant archive and delete) and the inactivity close. */
export function syncWorkerJobs(config: Config, deps: Deps): ScheduledJob[] {
  const inactivity = inactivitySweep(config);
  return [
    {
      name: 'retention',
      everyMs: config.RETENTION_EVERY_MS,
      run: () =>
        prune({
          db: deps.db,
          pool: deps.pool,
          logger: deps.logger,
          metrics: deps.metrics,
          now: deps.now,
          outboxRetentionMs: config.OUTBOX_RETENTION_HOURS * 3_600_000,
          inboxRetentionMs: config.INBOX_RETENTION_DAYS * 86_400_000,
          heldStatusRetentionMs: config.HELD_STATUS_RETENTION_HOURS * 3_600_000,
        }),
    },
    {
      // Per-tenant retention: archive, then delete (retention/expire.ts); off without ARCHIVE_DIR.
      name: 'retention-archive',
      everyMs: config.ARCHIVE_DIR ? config.RETENTION_ARCHIVE_EVERY_MS : 0,
      run: () =>
        expireRetainedData(
          { pool: deps.pool, logger: deps.logger, metrics: deps.metrics, now: deps.now, lookups: deps.lookups },
          { archiveDir: config.ARCHIVE_DIR ?? '', batchSize: config.RETENTION_BATCH_SIZE },
        ),
    },
    {
      name: 'inactivity-close',
      everyMs: inactivity.everyMs,
      run: () => closeInactiveConversations(deps, inactivity.idleMs),
    },
  ];
}

/** Schedules the sweeps (once across replicas) and runs this replica's share of them. */
export const startSyncWorkerJobs = (config: Config, deps: Deps) =>
  startScheduledJobs(
    {
      redisUrl: config.REDIS_URL,
      prefix: `${config.REDIS_KEY_PREFIX}bull`,
      queue: SWEEPS_QUEUE,
      logger: deps.logger,
      runs: deps.metrics.scheduledRuns,
    },
    syncWorkerJobs(config, deps),
  );

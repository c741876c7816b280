import {
  type AssignmentWorker,
  loadConfig as loadAssignmentConfig,
  startAssignmentWorker,
} from '@switchboard/assignment-worker';
import { loadConfig as loadSyncConfig, type SyncWorker, startSyncWorker } from '@switchboard/sync-worker';
import { createTestDatabase, testNamespace, testRedisPrefix, testUrls } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Scheduled work runs once per period across replicas, not once per process: two replicas of each
 * worker run against the same Postgres, Redis and RabbitMQ, on short periods, and the runs of
 * each sweep, summed over both replicas, stay at one per period (two per period is what a timer in
 * every process would give).
 */
const SYNC_EVERY_MS = 500;
const ASSIGNMENT_EVERY_MS = 1_000;

let cleanup: () => Promise<void>;
let sync: SyncWorker[] = [];
let assignment: AssignmentWorker[] = [];
let startedAt = 0;

beforeAll(async () => {
  const database = await createTestDatabase();
  const namespace = testNamespace();
  const redisPrefix = testRedisPrefix();
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.appUrl,
    REDIS_URL: testUrls.redis,
    AMQP_URL: testUrls.amqp,
    AMQP_NAMESPACE: namespace.ns,
    REDIS_KEY_PREFIX: redisPrefix.prefix,
    SYNC_WORKER_PORT: '0',
    SYNC_WORKER_HOST: '127.0.0.1',
    ASSIGNMENT_WORKER_PORT: '0',
    ASSIGNMENT_WORKER_HOST: '127.0.0.1',
    RETENTION_EVERY_MS: String(SYNC_EVERY_MS),
    INACTIVITY_CHECK_EVERY_MS: String(SYNC_EVERY_MS),
    CONVERSATION_INACTIVITY_CLOSE_MINUTES: '60',
    ASSIGNMENT_SWEEP_EVERY_MS: String(ASSIGNMENT_EVERY_MS),
  };
  startedAt = Date.now();
  for (let i = 0; i < 2; i++) {
    sync.push(await startSyncWorker(loadSyncConfig(env)));
    assignment.push(await startAssignmentWorker(loadAssignmentConfig(env)));
  }
  cleanup = async () => {
    for (const w of [...sync, ...assignment]) await w.lifecycle.stop();
    sync = [];
    assignment = [];
    await Promise.allSettled([database.drop(), namespace.cleanup(), redisPrefix.cleanup()]);
  };
});
afterAll(async () => {
  await cleanup?.();
});

type Runs = SyncWorker['metrics']['scheduledRuns'];
/** Runs of `job` by each replica, as their `scheduled_job_runs_total` counters say. */
const runsOf = async (replicas: Array<{ metrics: { scheduledRuns: Runs } }>, job: string) =>
  Promise.all(
    replicas.map(async (r) =>
      (await r.metrics.scheduledRuns.get()).values
        .filter((v) => v.labels.job === job)
        .reduce((sum, v) => sum + v.value, 0),
    ),
  );
const total = (counts: number[]) => counts.reduce((a, b) => a + b, 0);

describe('two replicas of each worker', () => {
  it.each([
    ['sync-worker', 'retention', SYNC_EVERY_MS],
    ['sync-worker', 'inactivity-close', SYNC_EVERY_MS],
    ['assignment-worker', 'sweep', ASSIGNMENT_EVERY_MS],
  ])('%s runs %s once per period', async (service, job, everyMs) => {
    const replicas = service === 'sync-worker' ? sync : assignment;
    await expect
      .poll(async () => total(await runsOf(replicas, job)), { timeout: 30_000, interval: 100 })
      .toBeGreaterThanOrEqual(6);
    const counts = await runsOf(replicas, job);
    const periods = (Date.now() - startedAt) / everyMs;
    // At most one run per period that began since the first replica started (plus the first,
    // which runs at once); a timer in each replica would give about twice as many.
    expect(total(counts)).toBeLessThanOrEqual(Math.floor(periods) + 2);
  });
});

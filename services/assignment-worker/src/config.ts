import { commonEnv, parseEnv, port } from '@switchboard/platform';
import { z } from 'zod';

const env = commonEnv.extend({
  ASSIGNMENT_WORKER_PORT: port.default(8083),
  ASSIGNMENT_WORKER_HOST: z.string().default('0.0.0.0'),
  /**
   * Unacknowledged deliveries: room for a backlog to form batches of ASSIGNMENT_BATCH_SIZE beside
   * the ones running (at 50, four batches at once shared 50 deliveries, about 7 events each, and a
   * worker that fell behind could not catch up by batching more; docs/performance.md).
   */
  ASSIGNMENT_PREFETCH: z.coerce.number().int().min(1).max(1000).default(400),
  /** Batches applied at once, each in its own transaction on its own connection. */
  ASSIGNMENT_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(2),
  /** Most chat events applied in one transaction (a batch forms from what waits while others run). */
  ASSIGNMENT_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  /**
   * How long a batch short of ASSIGNMENT_BATCH_SIZE may wait after its oldest event for others to
   * share its transaction, while the recent pace says more are due in time (a lone event after a
   * quiet spell goes at once); 0 starts every batch at once. See docs/performance.md.
   */
  ASSIGNMENT_BATCH_LINGER_MS: z.coerce.number().int().min(0).max(100).default(20),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
  API_TOKEN_CACHE_TTL_MS: z.coerce.number().int().min(0).default(30_000),
  /** The channel resolver's bounds (the same as the sync-worker's; see @switchboard/worker channels.ts). */
  CHANNEL_CACHE_TTL_MS: z.coerce.number().int().min(0).default(30_000),
  CHANNEL_CACHE_MAX_ENTRIES: z.coerce.number().int().min(1).default(10_000),
  /** How often the idle and stuck sweeps run (a BullMQ job scheduler); 0 turns it off. Per-chat idle jobs are exact. */
  ASSIGNMENT_SWEEP_EVERY_MS: z.coerce
    .number()
    .int()
    .refine((v) => v === 0 || v >= 1_000, 'must be 0 (off) or at least 1000')
    .default(60_000),
});

export function loadConfig(source: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(env, source);
  return { ...e, http: { port: e.ASSIGNMENT_WORKER_PORT, host: e.ASSIGNMENT_WORKER_HOST } };
}
export type Config = ReturnType<typeof loadConfig>;

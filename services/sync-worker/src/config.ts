import { commonEnv, parseEnv, port, secret } from '@switchboard/platform';
import { z } from 'zod';
import { PhoneRegion } from './phone.ts';

const env = commonEnv.extend({
  SYNC_WORKER_PORT: port.default(8082),
  SYNC_WORKER_HOST: z.string().default('0.0.0.0'),
  /** Deliveries handled at once; each holds a pooled connection while its transaction runs. */
  SYNC_PREFETCH: z.coerce.number().int().min(1).max(5000).default(400),
  /** Most events applied in one transaction; batches form from what waits while others run. */
  SYNC_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  /**
   * How long a batch short of SYNC_BATCH_SIZE may wait after its oldest event arrived for others
   * to share its transaction, while the recent pace says more are due in time (a lone event after
   * a quiet spell goes at once); 0 starts every batch at once. See docs/performance.md.
   */
  SYNC_BATCH_LINGER_MS: z.coerce.number().int().min(0).max(100).default(10),
  /** Batches applied at once, each on its own pooled connection. */
  SYNC_BATCH_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(2),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(10),
  /** How long a conversation lock lives without renewal; it is renewed while work runs. */
  LOCK_TTL_MS: z.coerce.number().int().positive().default(10_000),
  LOCK_WAIT_MS: z.coerce.number().int().positive().default(10_000),
  /**
   * The longest an account's channel (or its absence) is cached; a change is heard at once through
   * the channels NOTIFY, so this only bounds a missed one.
   */
  CHANNEL_CACHE_TTL_MS: z.coerce.number().int().min(0).default(30_000),
  /** Most accounts whose channel is cached (least recently used dropped first). */
  CHANNEL_CACHE_MAX_ENTRIES: z.coerce.number().int().min(1).default(10_000),
  /** How often the channel secrets are republished to the edges even without a change heard. */
  CHANNEL_SECRETS_PUBLISH_EVERY_MS: z.coerce.number().int().min(100).default(30_000),
  /** How long the read API trusts a token it checked; a revoked token works at most this long. */
  API_TOKEN_CACHE_TTL_MS: z.coerce.number().int().min(0).default(30_000),
  /** How long a read-API lookup stays cached at most; changes invalidate it before that. */
  LOOKUP_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).default(300),
  /** A chat conversation nobody wrote in for this long is closed (with its tickets); 0 turns it off. */
  CONVERSATION_INACTIVITY_CLOSE_MINUTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(24 * 60),
  /** How often the inactivity sweep runs, once across replicas (a BullMQ job scheduler). */
  INACTIVITY_CHECK_EVERY_MS: z.coerce.number().int().min(100).default(60_000),
  /** How often retention prunes, once across replicas; 0 turns it off. */
  RETENTION_EVERY_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(15 * 60_000),
  /**
   * The region a phone search reads a national number in (`(631) 555-1181` with `US`) when the
   * request names none; unset (or empty), a number without `+` or `00` is read as international.
   */
  DEFAULT_PHONE_REGION: z.union([z.literal('').transform(() => undefined), PhoneRegion]).optional(),
  /**
   * Where the per-tenant retention job writes its archives (`<dir>/<tenant>/<yyyy-mm-dd>.jsonl.gz`)
   * before it deletes; unset (or empty), the job does not run: nothing is deleted unarchived.
   */
  ARCHIVE_DIR: z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined)),
  /** How often the per-tenant retention job runs, once across replicas; 0 turns it off. */
  RETENTION_ARCHIVE_EVERY_MS: z.coerce.number().int().min(0).default(3_600_000),
  /** Most conversations one retention transaction (one archive member) covers. */
  RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  OUTBOX_RETENTION_HOURS: z.coerce.number().positive().default(72),
  INBOX_RETENTION_DAYS: z.coerce.number().positive().default(30),
  /** A status held this long for a message that never arrived is dropped (see retention.ts). */
  HELD_STATUS_RETENTION_HOURS: z.coerce
    .number()
    .positive()
    .default(7 * 24),
});

export function loadConfig(source: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(env, source);
  return {
    ...e,
    http: { port: e.SYNC_WORKER_PORT, host: e.SYNC_WORKER_HOST },
    /** Seals the channel-secrets snapshot the edges read from Redis (they hold the same key). */
    channelSecretsKey: secret(source, 'CHANNEL_SECRETS_KEY', 'dev-channel-secrets-key'),
  };
}
export type Config = ReturnType<typeof loadConfig>;

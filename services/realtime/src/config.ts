import { commonEnv, parseEnv, port, secret } from '@switchboard/platform';
import { z } from 'zod';

const positive = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const httpUrl = z.url({ protocol: /^https?$/ });

const env = commonEnv.extend({
  REALTIME_PORT: port.default(8084),
  REALTIME_HOST: z.string().default('0.0.0.0'),
  /** The sync-worker's read API: tokens are checked there, and the console reads through it. */
  REALTIME_READ_API_URL: httpUrl.default('http://127.0.0.1:8082'),
  /** The assignment-worker's operator API, proxied for the console (next chat, release, complete). */
  REALTIME_ASSIGNMENT_API_URL: httpUrl.default('http://127.0.0.1:8083'),
  /** How long a checked read-API token is trusted; a revoked one connects at most this long. */
  API_TOKEN_CACHE_TTL_MS: positive(30_000),
  /** Lifetime of a browser token minted from a read-API token. */
  REALTIME_BROWSER_TOKEN_TTL_SECONDS: positive(900),
  /** Events kept per tenant for replay (approximately: Redis trims whole nodes). */
  REALTIME_REPLAY_MAX_EVENTS: positive(10_000),
  /** How long a tenant's replay log lives after its last event. */
  REALTIME_REPLAY_TTL_HOURS: positive(24),
  /** A client whose unsent frames exceed this is dropped (close 4008) rather than buffered further. */
  REALTIME_MAX_BUFFERED_BYTES: positive(1024 * 1024),
  /** Ping interval; a client that has not answered the previous ping by the next one is dropped. */
  REALTIME_HEARTBEAT_MS: positive(30_000),
  /** Most frames one client may send per second before it is dropped (close 4029). */
  REALTIME_MAX_CLIENT_MESSAGES_PER_SECOND: positive(50),
  REALTIME_PREFETCH: positive(200),
});

export function loadConfig(source: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(env, source);
  return {
    ...e,
    http: { port: e.REALTIME_PORT, host: e.REALTIME_HOST },
    upstream: { readApi: e.REALTIME_READ_API_URL, assignmentApi: e.REALTIME_ASSIGNMENT_API_URL },
    tokens: {
      /** HMAC key of browser tokens; every replica needs the same one. */
      secret: secret(source, 'REALTIME_TOKEN_SECRET', 'dev-realtime-token-secret'),
      ttlSeconds: e.REALTIME_BROWSER_TOKEN_TTL_SECONDS,
      apiTokenCacheMs: e.API_TOKEN_CACHE_TTL_MS,
    },
    log: {
      maxLen: e.REALTIME_REPLAY_MAX_EVENTS,
      ttlMs: e.REALTIME_REPLAY_TTL_HOURS * 3_600_000,
    },
    clients: {
      maxBufferedBytes: e.REALTIME_MAX_BUFFERED_BYTES,
      heartbeatMs: e.REALTIME_HEARTBEAT_MS,
      maxMessagesPerSecond: e.REALTIME_MAX_CLIENT_MESSAGES_PER_SECOND,
    },
  };
}
export type Config = ReturnType<typeof loadConfig>;

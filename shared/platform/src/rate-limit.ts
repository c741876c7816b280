import type { Redis } from 'ioredis';
import { ConfigError } from './config.ts';
import { RequestError } from './edge.ts';
import type { Logger } from './logger.ts';

/**
 * A per-channel request budget shared by every replica of an edge: a fixed window counter per
 * channel in Redis. A replica does not ask Redis for every request: it leases a slice of a
 * channel's budget (`leaseSize` requests, 1% of the limit by default, never more than is left) and
 * spends it locally, so a busy channel costs one Redis call per slice instead of one per request.
 * What a replica leased and did not spend by the end of the window is lost to that window, so a
 * channel can be refused up to one slice per replica before its limit: at the default 5,000 a
 * second that is 50 requests per replica. A replica has at most one lease under way per channel:
 * requests that find no token meanwhile wait for it rather than each leasing a slice of its own
 * (which let a burst of requests at a window's start, far under the limit, take the whole budget
 * in slices and be refused).
 *
 * A request that names several channels (a WhatsApp batch for several business numbers) is decided
 * for all of them at once: the channels without a local token are leased in one script; if any is
 * at its budget the request is refused with 429 and `Retry-After` (the seconds until that channel's
 * window ends) and nothing is spent, neither in Redis nor locally; otherwise every channel gives one
 * token. If Redis cannot answer, the request goes through (a provider's webhook is worth more than
 * the limit) and `onUnavailable` counts it.
 */
export interface RateLimitOptions {
  /** Requests per channel per window; 0 turns the limit off. */
  limit: number;
  windowMs: number;
  /** Requests leased from Redis at a time per channel (default 1% of the limit, at least 1). */
  leaseSize?: number;
  logger: Logger;
  onUnavailable?: () => void;
}

// KEYS: the window's counter of each channel; ARGV: the limit, the window (ms), the lease size.
// Answers {0, i, pttl} when channel i is at its limit (nothing counted), else {1, granted...}:
// each channel took up to a lease, never past the limit.
const SCRIPT = `local limit = tonumber(ARGV[1])
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = tonumber(redis.call('GET', key) or '0')
  if counts[i] >= limit then return {0, i, redis.call('PTTL', key)} end
end
local reply = {1}
for i, key in ipairs(KEYS) do
  local grant = math.min(tonumber(ARGV[3]), limit - counts[i])
  if redis.call('INCRBY', key, grant) == grant then redis.call('PEXPIRE', key, ARGV[2]) end
  reply[i + 1] = grant
end
return reply`;

/** Takes one request from the budget of every channel named (distinct), or throws a 429 `RequestError`. */
export type RateLimit = (scope: string, channels: readonly string[]) => Promise<void>;

export function createRateLimit(redis: Redis, opts: RateLimitOptions): RateLimit {
  const lease = Math.max(1, Math.floor(opts.leaseSize ?? opts.limit / 100));
  /** Leased, unspent requests by counter key (of the current window only). */
  const tokens = new Map<string, number>();
  /**
   * The lease under way for a counter key: requests that find no token wait for it rather than
   * lease one of their own. Without this, every request in flight at a window's start leased a
   * slice, and a burst far under the limit took the whole budget in slices and was refused.
   */
  const leasing = new Map<string, Promise<void>>();
  let current = -1;

  /**
   * Leases for `keys` in one script. Rejects with the 429 when one is at its limit (so do the
   * requests waiting on it: the window's budget is spent) and with `Unavailable` when Redis cannot
   * answer (they go through, as this request does).
   */
  const leaseFor = (keys: string[], window: number): Promise<void> => {
    const done = (async () => {
      let reply: [number, ...number[]];
      try {
        reply = (await redis.eval(SCRIPT, keys.length, ...keys, opts.limit, opts.windowMs, lease)) as typeof reply;
      } catch (err) {
        opts.logger.warn({ err }, 'rate limit unavailable, letting the request through');
        opts.onUnavailable?.();
        throw new Unavailable();
      }
      if (reply[0] !== 1) throw refusal(opts, reply[2] ?? -1);
      // The window turned while Redis answered: what was leased belongs to the old window.
      if (current !== window) return;
      for (const [i, k] of keys.entries()) tokens.set(k, (tokens.get(k) ?? 0) + (reply[i + 1] ?? 0));
    })();
    for (const k of keys) leasing.set(k, done);
    const forget = () => {
      for (const k of keys) if (leasing.get(k) === done) leasing.delete(k);
    };
    done.then(forget, forget);
    return done;
  };

  return async (scope, channels) => {
    if (opts.limit <= 0 || channels.length === 0) return;
    const window = Math.floor(Date.now() / opts.windowMs);
    if (window !== current) {
      tokens.clear();
      current = window;
    }
    const keys = [...new Set(channels)].map((c) => `ratelimit:${scope}:${c}:${window}`);
    // Requests of this replica running meanwhile may spend what a lease brought before this one
    // gets to it: wait for the next lease under way, or take one (three at most). Every lease
    // grants at least one token or refuses (and its waiters with it), so waiting always ends.
    // Checking for a token and spending it happen with no await between: no token is spent twice.
    for (let leased = 0; leased < 3; ) {
      const missing = keys.filter((k) => !tokens.get(k));
      if (missing.length === 0) break;
      const pending = missing.filter((k) => leasing.has(k));
      try {
        if (pending.length > 0) await Promise.all(pending.map((k) => leasing.get(k)));
        else {
          leased++;
          await leaseFor(missing, window);
        }
      } catch (err) {
        if (err instanceof Unavailable) return;
        throw err;
      }
      // The window turned while Redis answered: the request was counted in the one it leased from.
      if (current !== window) return;
    }
    for (const k of keys) tokens.set(k, Math.max(0, (tokens.get(k) ?? 0) - 1));
  };
}

/** Redis could not answer a lease: the request goes through (see `RateLimitOptions`). */
class Unavailable extends Error {}

function refusal(opts: RateLimitOptions, ttl: number): RequestError {
  const retryAfter = Math.max(1, Math.ceil((ttl > 0 ? ttl : opts.windowMs) / 1000));
  return new RequestError(
    429,
    'rate_limited',
    `more than ${opts.limit} requests for a channel in ${opts.windowMs} ms`,
    {
      'retry-after': String(retryAfter),
    },
  );
}

/**
 * The edges' rate-limit settings: `RATE_LIMIT_PER_CHANNEL` requests per `RATE_LIMIT_WINDOW_MS`,
 * by default 5,000 a second per channel, above what Meta or our own systems send one account at
 * peak, so the limit stops a runaway sender without touching normal traffic. `RATE_LIMIT_LEASE`
 * is the slice a replica leases from Redis at a time (default 1% of the limit; 1 asks Redis for
 * every request).
 */
export function rateLimitConfig(source: NodeJS.ProcessEnv): { limit: number; windowMs: number; leaseSize?: number } {
  const limit = Number(source.RATE_LIMIT_PER_CHANNEL ?? 5000);
  const windowMs = Number(source.RATE_LIMIT_WINDOW_MS ?? 1000);
  const leaseSize = source.RATE_LIMIT_LEASE === undefined ? undefined : Number(source.RATE_LIMIT_LEASE);
  if (!Number.isInteger(limit) || limit < 0)
    throw new ConfigError('invalid configuration:\n  RATE_LIMIT_PER_CHANNEL: a whole number, 0 for no limit');
  if (!Number.isInteger(windowMs) || windowMs < 100)
    throw new ConfigError('invalid configuration:\n  RATE_LIMIT_WINDOW_MS: at least 100 ms');
  if (leaseSize !== undefined && (!Number.isInteger(leaseSize) || leaseSize < 1))
    throw new ConfigError('invalid configuration:\n  RATE_LIMIT_LEASE: a whole number, at least 1');
  return leaseSize === undefined ? { limit, windowMs } : { limit, windowMs, leaseSize };
}

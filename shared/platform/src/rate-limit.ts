import type { Redis } from 'ioredis';
import { ConfigError } from './config.ts';
import { RequestError } from './edge.ts';
import type { Logger } from './logger.ts';

/**
 * A per-channel request budget shared by every replica of an edge: a fixed window counter per
 * channel in Redis. A request that names several channels (a WhatsApp batch for several business
 * numbers) is decided for all of them at once, in one script: if any is at its budget the request
 * is refused with 429 and `Retry-After` (the seconds until that channel's window ends) and no
 * counter moves, so a refused request spends nothing; otherwise every counter takes one. If Redis
 * cannot answer, the request goes through (a provider's webhook is worth more than the limit) and
 * `onUnavailable` counts it.
 */
export interface RateLimitOptions {
  /** Requests per channel per window; 0 turns the limit off. */
  limit: number;
  windowMs: number;
  logger: Logger;
  onUnavailable?: () => void;
}

// KEYS: the window's counter of each channel; ARGV: the limit, the window (ms). Answers
// {0, i, pttl} when channel i is at its limit (nothing counted), {1} when every one took one.
const SCRIPT = `local limit = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= limit then return {0, i, redis.call('PTTL', key)} end
end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[2]) end
end
return {1}`;

/** Takes one request from the budget of every channel named (distinct), or throws a 429 `RequestError`. */
export type RateLimit = (scope: string, channels: readonly string[]) => Promise<void>;

export function createRateLimit(redis: Redis, opts: RateLimitOptions): RateLimit {
  return async (scope, channels) => {
    if (opts.limit <= 0 || channels.length === 0) return;
    const window = Math.floor(Date.now() / opts.windowMs);
    const keys = [...new Set(channels)].map((c) => `ratelimit:${scope}:${c}:${window}`);
    let reply: [number, number?, number?];
    try {
      reply = (await redis.eval(SCRIPT, keys.length, ...keys, opts.limit, opts.windowMs)) as typeof reply;
    } catch (err) {
      opts.logger.warn({ err }, 'rate limit unavailable, letting the request through');
      opts.onUnavailable?.();
      return;
    }
    const [allowed, , ttl = -1] = reply;
    if (allowed === 1) return;
    const retryAfter = Math.max(1, Math.ceil((ttl > 0 ? ttl : opts.windowMs) / 1000));
    throw new RequestError(
      429,
      'rate_limited',
      `more than ${opts.limit} requests for a channel in ${opts.windowMs} ms`,
      {
        'retry-after': String(retryAfter),
      },
    );
  };
}

/**
 * The edges' rate-limit settings: `RATE_LIMIT_PER_CHANNEL` requests per `RATE_LIMIT_WINDOW_MS`,
 * by default 5,000 a second per channel, above what Meta or our own systems send one account at
 * peak, so the limit stops a runaway sender without touching normal traffic.
 */
export function rateLimitConfig(source: NodeJS.ProcessEnv): { limit: number; windowMs: number } {
  const limit = Number(source.RATE_LIMIT_PER_CHANNEL ?? 5000);
  const windowMs = Number(source.RATE_LIMIT_WINDOW_MS ?? 1000);
  if (!Number.isInteger(limit) || limit < 0)
    throw new ConfigError('invalid configuration:\n  RATE_LIMIT_PER_CHANNEL: a whole number, 0 for no limit');
  if (!Number.isInteger(windowMs) || windowMs < 100)
    throw new ConfigError('invalid configuration:\n  RATE_LIMIT_WINDOW_MS: at least 100 ms');
  return { limit, windowMs };
}

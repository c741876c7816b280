import type { Redis } from 'ioredis';
import { ConfigError } from './config.ts';
import { RequestError } from './edge.ts';
import type { Logger } from './logger.ts';

/**
 * A per-channel request budget shared by every replica of an edge: a fixed window counter in
 * Redis (INCR, and PEXPIRE on the window's first request, in one script). Over the budget the
 * request is refused with 429 and `Retry-After` (the seconds until the window ends) before
 * anything is published. If Redis cannot answer, the request goes through (a provider's webhook
 * is worth more than the limit) and `onUnavailable` counts it.
 */
export interface RateLimitOptions {
  /** Requests per channel per window; 0 turns the limit off. */
  limit: number;
  windowMs: number;
  logger: Logger;
  onUnavailable?: () => void;
}

const SCRIPT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;

export type RateLimit = (scope: string, channel: string) => Promise<void>;

export function createRateLimit(redis: Redis, opts: RateLimitOptions): RateLimit {
  return async (scope, channel) => {
    if (opts.limit <= 0) return;
    const window = Math.floor(Date.now() / opts.windowMs);
    let reply: [number, number];
    try {
      reply = (await redis.eval(SCRIPT, 1, `ratelimit:${scope}:${channel}:${window}`, opts.windowMs)) as [
        number,
        number,
      ];
    } catch (err) {
      opts.logger.warn({ err }, 'rate limit unavailable, letting the request through');
      opts.onUnavailable?.();
      return;
    }
    const [count, ttl] = reply;
    if (count > opts.limit) {
      const retryAfter = Math.max(1, Math.ceil((ttl > 0 ? ttl : opts.windowMs) / 1000));
      throw new RequestError(
        429,
        'rate_limited',
        `more than ${opts.limit} requests for this channel in ${opts.windowMs} ms`,
        {
          'retry-after': String(retryAfter),
        },
      );
    }
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

import type { Redis } from 'ioredis';
import { DependencyUnavailableError } from './edge.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { Logger } from './logger.ts';
import { closeRedis, createRedis, redisReady } from './redis.ts';

/**
 * Remembers signatures (or provider tokens) seen within a signature window, in Redis, so that a
 * captured request replayed inside the window is refused. A claim is released again when the
 * request fails before the broker confirmed it: the sender's retry of that request is not a replay.
 */
export class ReplayCache {
  constructor(
    private readonly redis: Redis,
    /** Keep each claim at least as long as a signature stays fresh. */
    private readonly ttlMs: number,
    private readonly scope: string,
  ) {}

  private key(id: string) {
    return `replay:${this.scope}:${id}`;
  }

  /** True when `id` was not seen within the window (and is now claimed); false for a replay. */
  async claim(id: string): Promise<boolean> {
    let reply: string | null;
    try {
      reply = await this.redis.set(this.key(id), '1', 'PX', this.ttlMs, 'NX');
    } catch (err) {
      // Without the cache a replay cannot be told apart: refuse for now, the sender retries.
      throw new DependencyUnavailableError(`replay cache unavailable: ${(err as Error).message}`);
    }
    return reply === 'OK';
  }

  async release(id: string): Promise<void> {
    await this.redis.del(this.key(id)).catch(() => undefined);
  }

  /** Claims `id`, runs `fn`, and releases the claim if `fn` fails. Returns false for a replay. */
  async guard(id: string, fn: () => Promise<void>): Promise<boolean> {
    if (!(await this.claim(id))) return false;
    try {
      await fn();
    } catch (err) {
      await this.release(id);
      throw err;
    }
    return true;
  }
}

/**
 * An edge's replay cache on a Redis client of its own, closed with the edge (registered on
 * `lifecycle` after the broker, so it stops before it), and a readiness check for it.
 */
export function startReplayCache(opts: {
  redisUrl: string;
  keyPrefix: string;
  logger: Logger;
  lifecycle: Lifecycle;
  ttlMs: number;
  scope: string;
}) {
  const redis = createRedis(opts.redisUrl, opts.logger, { keyPrefix: opts.keyPrefix });
  opts.lifecycle.onStop('redis', closeRedis(redis));
  return { redis, replay: new ReplayCache(redis, opts.ttlMs, opts.scope), ready: redisReady(redis) };
}

import type { Redis } from 'ioredis';
import { DependencyUnavailableError } from './edge.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { Logger } from './logger.ts';
import type { ReplayMetrics } from './metrics.ts';
import { closeRedis, createRedis, redisReady } from './redis.ts';

/**
 * The replay cache lost its state (Redis restarted without persistence, was flushed, or evicted
 * the marker): a request signed before that moment cannot be told from a replay, so it is refused
 * (503: a sender that signs its retry afresh gets through).
 */
export class ReplayStateLostError extends DependencyUnavailableError {
  override name = 'ReplayStateLostError';
}

/**
 * One atomic step: the store's "up since" marker (set now when it is missing: the store is new or
 * lost its state), the refusal of a request signed in a second before it, and the claim itself.
 * Returns `[verdict, up since ms, whether the marker was set just now]`.
 */
const CLAIM = `
local since = redis.call('GET', KEYS[2])
local reset = 0
if not since then
  redis.call('SET', KEYS[2], ARGV[2])
  since = ARGV[2]
  reset = 1
end
if tonumber(ARGV[3]) < math.floor(tonumber(since) / 1000) then return {'before_loss', since, reset} end
if redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'NX') then return {'fresh', since, reset} end
return {'replayed', since, reset}`;

/**
 * Remembers signatures (or provider tokens) seen within a signature window, in Redis, so that a
 * captured request replayed inside the window is refused. A claim is released again when the
 * request fails before the broker confirmed it: the sender's retry of that request is not a replay.
 *
 * Surviving a loss of the cache: a marker key records since when the store holds its claims. It
 * has no TTL, so it disappears only with the claims (a restart without persistence, a flush); the
 * next claim (or the client's reconnect) sets it to now, and a request signed in an earlier second
 * is refused from then on: no token or signature seen before the loss can be used again, at the
 * price of refusing (503) genuine requests signed just before it, for one signature window.
 */
export class ReplayCache {
  constructor(
    private readonly redis: Redis,
    /** Keep each claim at least as long as a signature stays fresh. */
    private readonly ttlMs: number,
    private readonly scope: string,
    private readonly metrics?: ReplayMetrics,
    private readonly now: () => number = Date.now,
  ) {}

  private key(id: string) {
    return `replay:${this.scope}:${id}`;
  }

  /** Shared by every scope on this Redis and prefix: a loss takes all their claims at once. */
  static readonly sinceKey = 'replay:up-since';

  /** Sets the marker if it is missing (at start, and when the client reconnects after a restart). */
  async markUp(): Promise<void> {
    const set = await this.redis.set(ReplayCache.sinceKey, String(this.now()), 'NX');
    if (set === 'OK') this.metrics?.resets.inc({ scope: this.scope });
  }

  /** True when `id` was not seen within the window (and is now claimed); false for a replay. */
  async claim(id: string, signedAtSeconds: number): Promise<boolean> {
    let reply: [string, string, number];
    try {
      reply = (await this.redis.eval(
        CLAIM,
        2,
        this.key(id),
        ReplayCache.sinceKey,
        this.ttlMs,
        this.now(),
        Math.floor(signedAtSeconds),
      )) as [string, string, number];
    } catch (err) {
      // Without the cache a replay cannot be told apart: refuse for now, the sender retries.
      throw new DependencyUnavailableError(`replay cache unavailable: ${(err as Error).message}`);
    }
    const [verdict, since, reset] = reply;
    if (reset === 1) this.metrics?.resets.inc({ scope: this.scope });
    if (verdict === 'before_loss') {
      this.metrics?.refusedAfterLoss.inc({ scope: this.scope });
      const at = new Date(Number(since)).toISOString();
      throw new ReplayStateLostError(`replay cache holds claims only since ${at}; sign the request again`);
    }
    return verdict === 'fresh';
  }

  async release(id: string): Promise<void> {
    await this.redis.del(this.key(id)).catch(() => undefined);
  }

  /**
   * Claims `id` (signed at `signedAtSeconds`, unix seconds), runs `fn`, and releases the claim if
   * `fn` fails. Returns false for a replay; throws `ReplayStateLostError` for a request signed
   * before the cache lost its state.
   */
  async guard(id: string, signedAtSeconds: number, fn: () => Promise<void>): Promise<boolean> {
    if (!(await this.claim(id, signedAtSeconds))) return false;
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
 * `lifecycle` after the broker, so it stops before it), and a readiness check for it. The
 * "up since" marker is set whenever the client becomes ready: at start, and after a restart.
 */
export function startReplayCache(opts: {
  redisUrl: string;
  keyPrefix: string;
  logger: Logger;
  lifecycle: Lifecycle;
  ttlMs: number;
  scope: string;
  metrics: ReplayMetrics;
  now: () => number;
}) {
  const redis = createRedis(opts.redisUrl, opts.logger, { keyPrefix: opts.keyPrefix });
  opts.lifecycle.onStop('redis', closeRedis(redis));
  const replay = new ReplayCache(redis, opts.ttlMs, opts.scope, opts.metrics, opts.now);
  redis.on('ready', () => {
    replay.markUp().catch((err: unknown) => opts.logger.warn({ err }, 'replay marker not set'));
  });
  return { redis, replay, ready: redisReady(redis) };
}

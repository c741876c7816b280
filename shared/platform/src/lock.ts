import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.ts';
import type { LockMetrics } from './metrics.ts';

// A holder takes all of its keys in one atomic step or none of them (so two holders of
// overlapping sets can never deadlock), and renews and releases them in one step each. Release
// and renewal compare the owner token first: a holder whose lock expired can never delete or
// extend the next holder's lock. (One script touches several keys: on a Redis Cluster they would
// need a shared hash tag.)
const ACQUIRE = `for _, k in ipairs(KEYS) do if redis.call('exists', k) == 1 then return 0 end end
for _, k in ipairs(KEYS) do redis.call('set', k, ARGV[1], 'PX', ARGV[2]) end
return 1`;
const RELEASE = `for _, k in ipairs(KEYS) do if redis.call('get', k) == ARGV[1] then redis.call('del', k) end end
return 1`;
const EXTEND = `for _, k in ipairs(KEYS) do if redis.call('get', k) == ARGV[1] then redis.call('pexpire', k, ARGV[2]) end end
return 1`;

export interface LockOptions {
  ttlMs: number;
  /** How long to wait for a held lock before giving up with `LockTimeoutError`. */
  waitMs: number;
  scope: string;
}

export class LockTimeoutError extends Error {
  override name = 'LockTimeoutError';
}

export interface Locks {
  /**
   * Runs `fn` while holding every lock in `keys` (all taken at once, or none), renewing them
   * until `fn` settles. The lock only avoids wasted work: callers still guard their writes in
   * Postgres, because a lock can expire under a paused process. If Redis itself is unreachable, `fn` runs unlocked and the Postgres guard
   * alone keeps it correct.
   */
  withLocks<T>(keys: string[], opts: LockOptions, fn: () => Promise<T>): Promise<T>;
}

export function createLocks(redis: Redis, logger: Logger, metrics: LockMetrics): Locks {
  async function acquire(keys: string[], token: string, opts: LockOptions): Promise<void> {
    const deadline = Date.now() + opts.waitMs;
    let delay = 2;
    let contended = false;
    for (;;) {
      if ((await redis.eval(ACQUIRE, keys.length, ...keys, token, String(opts.ttlMs))) === 1) return;
      if (!contended) metrics.contention.inc({ scope: opts.scope });
      contended = true;
      if (Date.now() + delay > deadline) {
        metrics.timeouts.inc({ scope: opts.scope });
        throw new LockTimeoutError(`lock ${opts.scope} still held after ${opts.waitMs} ms`);
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 50);
    }
  }

  const release = (keys: string[], token: string) =>
    redis.eval(RELEASE, keys.length, ...keys, token).catch((err: unknown) => {
      logger.warn({ err }, 'lock release failed; it expires by itself');
    });

  return {
    async withLocks(keys, opts, fn) {
      const held = [...new Set(keys)];
      if (held.length === 0) return fn();
      const token = randomUUID();
      try {
        await acquire(held, token, opts);
      } catch (err) {
        if (err instanceof LockTimeoutError) throw err;
        logger.warn({ err, scope: opts.scope }, 'redis unavailable, continuing under the postgres guard alone');
        return fn();
      }
      const renew = setInterval(
        () => {
          for (const key of held) {
            redis.eval(EXTEND, 1, key, token, String(opts.ttlMs)).catch(() => undefined);
          }
        },
        Math.max(10, Math.floor(opts.ttlMs / 3)),
      );
      try {
        return await fn();
      } finally {
        clearInterval(renew);
        await release(held, token);
      }
    },
  };
}

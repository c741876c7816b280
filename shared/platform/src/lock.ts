import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.ts';
import type { LockMetrics } from './metrics.ts';

// Compare-and-delete and compare-and-extend: only the owner token may release or renew a lock,
// so a holder whose lock expired can never delete the next holder's lock.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

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
   * Runs `fn` while holding every lock in `keys` (taken in sorted order, so two holders of
   * overlapping sets cannot deadlock), renewing them until `fn` settles. The lock only avoids
   * wasted work: callers still guard their writes in Postgres, because a lock can expire under
   * a paused process. If Redis itself is unreachable, `fn` runs unlocked and the Postgres guard
   * alone keeps it correct.
   */
  withLocks<T>(keys: string[], opts: LockOptions, fn: () => Promise<T>): Promise<T>;
}

export function createLocks(redis: Redis, logger: Logger, metrics: LockMetrics): Locks {
  async function acquire(key: string, token: string, opts: LockOptions): Promise<boolean> {
    const deadline = Date.now() + opts.waitMs;
    let delay = 2;
    let contended = false;
    for (;;) {
      if ((await redis.set(key, token, 'PX', opts.ttlMs, 'NX')) === 'OK') return true;
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
    Promise.all(keys.map((k) => redis.eval(RELEASE, 1, k, token))).catch((err: unknown) =>
      logger.warn({ err }, 'lock release failed; it expires by itself'),
    );

  return {
    async withLocks(keys, opts, fn) {
      const sorted = [...new Set(keys)].sort();
      const token = randomUUID();
      const held: string[] = [];
      try {
        for (const key of sorted) {
          await acquire(key, token, opts);
          held.push(key);
        }
      } catch (err) {
        await release(held, token);
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

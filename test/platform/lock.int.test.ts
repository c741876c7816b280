import { setTimeout as sleep } from 'node:timers/promises';
import {
  createLocks,
  createLogger,
  createRegistry,
  type Locks,
  LockTimeoutError,
  lockMetrics,
} from '@switchboard/platform';
import { testRedisPrefix, testUrls } from '@switchboard/testing';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let prefix: ReturnType<typeof testRedisPrefix>;
let redis: Redis;
let locks: Locks;
const opts = { ttlMs: 300, waitMs: 2_000, scope: 'test' };

beforeEach(() => {
  prefix = testRedisPrefix();
  redis = new Redis(testUrls.redis, { keyPrefix: prefix.prefix });
  locks = createLocks(redis, createLogger('test', 'silent'), lockMetrics(createRegistry('test')));
});
afterEach(async () => {
  redis.disconnect();
  await prefix.cleanup();
});

describe('withLocks', () => {
  it('lets one holder in at a time', async () => {
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        locks.withLocks(['k'], opts, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await sleep(5);
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
    expect(await redis.exists('k')).toBe(0);
  });

  it('renews the lock while the work outlives its ttl', async () => {
    let otherGotIn = false;
    const long = locks.withLocks(['k'], opts, () => sleep(opts.ttlMs * 3));
    await sleep(opts.ttlMs * 1.5);
    const other = locks.withLocks(['k'], { ...opts, waitMs: 50 }, async () => {
      otherGotIn = true;
    });
    await expect(other).rejects.toBeInstanceOf(LockTimeoutError);
    await long;
    expect(otherGotIn).toBe(false);
  });

  it('never releases a lock that expired and was taken by someone else', async () => {
    await redis.set('k', 'someone-else', 'PX', 10_000);
    await expect(locks.withLocks(['k'], { ...opts, waitMs: 30 }, async () => 1)).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
    expect(await redis.get('k')).toBe('someone-else');
  });

  it('takes overlapping key sets in one order, so crossing holders do not deadlock', async () => {
    const results = await Promise.all([
      locks.withLocks(['a', 'b'], opts, async () => {
        await sleep(20);
        return 'ab';
      }),
      locks.withLocks(['b', 'a'], opts, async () => {
        await sleep(20);
        return 'ba';
      }),
    ]);
    expect(results).toEqual(['ab', 'ba']);
  });

  it('takes a set of keys all at once or not at all, so a waiter blocks nobody else', async () => {
    await redis.set('b', 'someone-else', 'PX', 10_000);
    const waiting = locks.withLocks(['a', 'b'], { ...opts, waitMs: 300 }, async () => 'never');
    // While the set waits for `b`, `a` stays free for others.
    expect(await locks.withLocks(['a'], { ...opts, waitMs: 50 }, async () => 'a is free')).toBe('a is free');
    await expect(waiting).rejects.toBeInstanceOf(LockTimeoutError);
    expect(await redis.exists('a')).toBe(0);
  });
});

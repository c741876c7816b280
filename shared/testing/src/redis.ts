import { Redis } from 'ioredis';
import { testUrls, uniqueSuffix } from './env.ts';

/**
 * A unique Redis key prefix for one test, and a cleanup that deletes its keys. The replay caches'
 * "up since" marker is seeded at the epoch: a namespace made for one test never held claims, so
 * it has none to lose, and a request the test signed a moment before its edge came up is not
 * mistaken for one signed before a loss (a test that restarts Redis still loses the marker, as
 * production would). `ready` settles once the marker is there; the seed is sent at once, so it
 * reaches Redis before any connection the test opens later.
 */
export function testRedisPrefix(): { prefix: string; cleanup: () => Promise<void>; ready: Promise<void> } {
  const prefix = `sbt:${uniqueSuffix()}:`;
  return { prefix, cleanup: () => deleteRedisKeys(prefix), ready: seedReplayMarker(prefix) };
}

async function seedReplayMarker(prefix: string): Promise<void> {
  const redis = new Redis(testUrls.redis, { maxRetriesPerRequest: 1 });
  try {
    await redis.set(`${prefix}replay:up-since`, '0', 'NX');
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under `prefix`. */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(testUrls.redis, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

import { Redis } from 'ioredis';
import { testUrls, uniqueSuffix } from './env.ts';

/** A unique Redis key prefix for one test, and a cleanup that deletes its keys. */
export function testRedisPrefix(): { prefix: string; cleanup: () => Promise<void> } {
  const prefix = `sbt:${uniqueSuffix()}:`;
  return { prefix, cleanup: () => deleteRedisKeys(prefix) };
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

import { Redis } from 'ioredis';
import type { Logger } from './logger.ts';

export { Redis } from 'ioredis';

/**
 * One Redis client per process. ioredis reconnects by itself; commands issued while it is down
 * fail fast (no offline queue) so callers see the outage instead of waiting on it.
 */
export function createRedis(url: string, logger: Logger, opts: { keyPrefix?: string } = {}): Redis {
  const redis = new Redis(url, {
    keyPrefix: opts.keyPrefix ?? '',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  });
  redis.on('error', (err) => logger.warn({ err }, 'redis error'));
  redis.on('ready', () => logger.info('redis ready'));
  return redis;
}

export const redisReady = (redis: Redis) => async () => {
  if ((await redis.ping()) !== 'PONG') throw new Error('unexpected PING reply');
};

/** A lifecycle stop step: QUIT (pending replies arrive), or drop the socket when Redis is gone. */
export const closeRedis = (redis: Redis) => async () => {
  await redis.quit().catch(() => redis.disconnect());
};

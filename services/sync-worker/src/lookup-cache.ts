import type { Logger } from '@switchboard/platform';
import type { Redis } from 'ioredis';
import type { Metrics } from './metrics.ts';

/**
 * Read-API lookups cached in Redis, invalidated by a per-tenant generation: every cached answer's
 * key holds the tenant's generation when it was read, and every committed change of a tenant's
 * data bumps that generation, so no later read finds an answer older than the change. A reader
 * that read the database before a change and writes its answer after the bump writes it under the
 * old generation, where nobody looks any more. Entries also expire after `ttlSeconds`.
 * Redis trouble never fails a read: the lookup goes to Postgres.
 */
export interface LookupCache {
  get<T>(tenantId: string, key: string, load: () => Promise<T>): Promise<T>;
  /** Called after a transaction that changed these tenants' data committed. */
  invalidate(tenantIds: Iterable<string>): Promise<void>;
}

const genKey = (tenantId: string) => `lookup-gen:${tenantId}`;

export function createLookupCache(
  redis: Redis,
  opts: { ttlSeconds: number; logger: Logger; metrics: Pick<Metrics, 'lookupCache'> },
): LookupCache {
  return {
    async get(tenantId, key, load) {
      let cacheKey: string | undefined;
      try {
        const gen = (await redis.get(genKey(tenantId))) ?? '0';
        cacheKey = `lookup:${tenantId}:${gen}:${key}`;
        const hit = await redis.get(cacheKey);
        if (hit !== null) {
          opts.metrics.lookupCache.inc({ result: 'hit' });
          return JSON.parse(hit);
        }
      } catch (err) {
        opts.logger.warn({ err }, 'lookup cache unavailable; reading Postgres');
        cacheKey = undefined;
      }
      opts.metrics.lookupCache.inc({ result: 'miss' });
      const value = await load();
      if (cacheKey && value !== undefined) {
        await redis.set(cacheKey, JSON.stringify(value), 'EX', opts.ttlSeconds).catch((err: unknown) => {
          opts.logger.warn({ err }, 'could not cache a lookup');
        });
      }
      return value;
    },
    async invalidate(tenantIds) {
      const ids = [...new Set(tenantIds)];
      if (ids.length === 0) return;
      const multi = redis.multi();
      for (const id of ids) multi.incr(genKey(id));
      await multi.exec().catch((err: unknown) => {
        // Entries of these tenants may be served until they expire (ttlSeconds).
        opts.logger.warn({ err, tenants: ids.length }, 'could not invalidate lookups');
      });
    },
  };
}

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
  /**
   * The answer as JSON text, as it is cached (a hit is sent without being parsed and
   * serialized again); null when `load` found nothing (also cached).
   */
  json(tenantId: string, key: string, load: () => Promise<unknown>): Promise<string | null>;
  /** Called after a transaction that changed these tenants' data committed. */
  invalidate(tenantIds: Iterable<string>): Promise<void>;
}

const genKey = (tenantId: string) => `lookup-gen:${tenantId}`;

/**
 * One round trip for a lookup: the tenant's generation, then the answer cached under it. KEYS[1]
 * is the generation (ioredis prefixes it); the answer's key is built here from ARGV, so it carries
 * the client's key prefix explicitly.
 */
const READ_SCRIPT = `
local gen = redis.call('GET', KEYS[1]) or '0'
return {gen, redis.call('GET', ARGV[1] .. gen .. ARGV[2])}`;

type CacheRedis = Redis & {
  lookupRead(genKey: string, before: string, after: string): Promise<[string, string | null]>;
};

export function createLookupCache(
  redis: Redis,
  opts: { ttlSeconds: number; logger: Logger; metrics: Pick<Metrics, 'lookupCache'> },
): LookupCache {
  if (!('lookupRead' in redis)) redis.defineCommand('lookupRead', { numberOfKeys: 1, lua: READ_SCRIPT });
  const cached = redis as CacheRedis;
  const prefix = redis.options.keyPrefix ?? '';
  return {
    async json(tenantId, key, load) {
      let cacheKey: string | undefined;
      try {
        const [gen, hit] = await cached.lookupRead(genKey(tenantId), `${prefix}lookup:${tenantId}:`, `:${key}`);
        cacheKey = `lookup:${tenantId}:${gen}:${key}`;
        if (hit !== null) {
          opts.metrics.lookupCache.inc({ result: 'hit' });
          return hit === 'null' ? null : hit;
        }
      } catch (err) {
        opts.logger.warn({ err }, 'lookup cache unavailable; reading Postgres');
        cacheKey = undefined;
      }
      opts.metrics.lookupCache.inc({ result: 'miss' });
      const text = JSON.stringify((await load()) ?? null);
      if (cacheKey) {
        await redis.set(cacheKey, text, 'EX', opts.ttlSeconds).catch((err: unknown) => {
          opts.logger.warn({ err }, 'could not cache a lookup');
        });
      }
      return text === 'null' ? null : text;
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

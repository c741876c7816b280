import type { Logger } from '@switchboard/platform';
import type { Redis } from 'ioredis';
import type { Metrics } from './metrics.ts';

/**
 * Read-API lookups cached in Redis, invalidated by what changed, not by tenant. Each lookup names
 * the one dependency its answer is read from (`conv:<id>`, `cust:<id>`, `wa:<whatsapp id>`,
 * `gc:<genesys id>`, `phone:<e164>`, `uid:<WhatsApp user id>`, `uname:<username>` (migration
 * 0014), `names`), and each dependency has a generation
 * (`lookup-gen:<tenant>:<dependency>`); an answer is cached under the generation it was read at.
 * Statement triggers (migration 0013) record, in the writing transaction, the dependency keys of
 * every row of `customers`, `conversations` and `messages` it inserts, updates or deletes (a
 * customer's change reaches its conversations' keys, a message's its conversation's and its
 * customer's); the writer reads them just before commit and bumps them after.
 *
 * Why no read after a committed change returns an answer older than the change: a lookup reads
 * the generation first, then Postgres. If its database read saw the state before the change, the
 * change had not committed, so its bump (after the commit) had not happened either, and the answer
 * is written under the old generation, where no lookup that starts after the bump looks. Every
 * write to the three tables the lookups read goes through the triggers, so no write path can
 * forget a key; a dependency's family covers every row its lookup's SQL reads (see lookup.ts).
 * Between the commit and the bump an in-flight lookup may still answer the old state, as before.
 * Entries also expire after `ttlSeconds`; Redis trouble never fails a read (Postgres answers).
 */
export interface LookupCache {
  /**
   * The answer as JSON text, as it is cached (a hit is sent without being parsed and
   * serialized again); null when `load` found nothing (also cached). `dependsOn` is the
   * dependency whose changes invalidate it.
   */
  json(tenantId: string, key: string, dependsOn: string, load: () => Promise<unknown>): Promise<string | null>;
  /** Called after a transaction committed, with the keys it touched (`<tenant>:<dependency>`). */
  invalidate(keys: Iterable<string>): Promise<void>;
}

const genKey = (dependency: string) => `lookup-gen:${dependency}`;

/**
 * One round trip for a lookup: the dependency's generation, then the answer cached under it.
 * KEYS[1] is the generation (ioredis prefixes it); the answer's key is built here from ARGV, so it
 * carries the client's key prefix explicitly.
 */
const READ_SCRIPT = `
local gen = redis.call('GET', KEYS[1]) or '0'
return {gen, redis.call('GET', ARGV[1] .. gen .. ARGV[2])}`;

/**
 * Caches an answer only if the generation is still the one it was read at (a bump since means a
 * change committed meanwhile: the answer may be older than it, and nobody would look there anyway),
 * and keeps the generation alive as long as its answers: it expires only after every answer cached
 * under it did, so a generation that restarts from 0 finds no answer of an earlier life.
 */
const WRITE_SCRIPT = `
local gen = redis.call('GET', KEYS[1]) or '0'
if gen ~= ARGV[1] then return 0 end
redis.call('SET', ARGV[2], ARGV[3], 'EX', ARGV[4])
if gen ~= '0' then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
return 1`;

/**
 * Bumps every generation in KEYS and keeps each alive `ARGV[1]` seconds (see WRITE_SCRIPT): one
 * command for a commit's keys, where INCR and EXPIRE per key cost the worker two commands each.
 */
const BUMP_SCRIPT = `
for _, k in ipairs(KEYS) do
  redis.call('INCR', k)
  redis.call('EXPIRE', k, ARGV[1])
end
return #KEYS`;

type CacheRedis = Redis & {
  lookupRead(genKey: string, before: string, after: string): Promise<[string, string | null]>;
  lookupWrite(genKey: string, gen: string, key: string, text: string, ttl: number, genTtl: number): Promise<number>;
  lookupBump(numberOfKeys: number, ...keysThenTtl: (string | number)[]): Promise<number>;
};

export function createLookupCache(
  redis: Redis,
  opts: { ttlSeconds: number; logger: Logger; metrics: Pick<Metrics, 'lookupCache'> },
): LookupCache {
  if (!('lookupRead' in redis)) redis.defineCommand('lookupRead', { numberOfKeys: 1, lua: READ_SCRIPT });
  if (!('lookupWrite' in redis)) redis.defineCommand('lookupWrite', { numberOfKeys: 1, lua: WRITE_SCRIPT });
  if (!('lookupBump' in redis)) redis.defineCommand('lookupBump', { lua: BUMP_SCRIPT });
  const cached = redis as CacheRedis;
  const prefix = redis.options.keyPrefix ?? '';
  return {
    async json(tenantId, key, dependsOn, load) {
      const dependency = `${tenantId}:${dependsOn}`;
      let readAt: string | undefined;
      try {
        const [gen, hit] = await cached.lookupRead(genKey(dependency), `${prefix}lookup:${dependency}:`, `:${key}`);
        readAt = gen;
        if (hit !== null) {
          opts.metrics.lookupCache.inc({ result: 'hit' });
          return hit === 'null' ? null : hit;
        }
      } catch (err) {
        opts.logger.warn({ err }, 'lookup cache unavailable; reading Postgres');
        readAt = undefined;
      }
      opts.metrics.lookupCache.inc({ result: 'miss' });
      const text = JSON.stringify((await load()) ?? null);
      if (readAt !== undefined) {
        const cacheKey = `${prefix}lookup:${dependency}:${readAt}:${key}`;
        await cached
          .lookupWrite(genKey(dependency), readAt, cacheKey, text, opts.ttlSeconds, opts.ttlSeconds * 2)
          .catch((err: unknown) => opts.logger.warn({ err }, 'could not cache a lookup'));
      }
      return text === 'null' ? null : text;
    },
    async invalidate(keys) {
      const unique = [...new Set(keys)];
      if (unique.length === 0) return;
      const gens = unique.map(genKey);
      // Kept beyond the life of any answer cached under it (see WRITE_SCRIPT).
      await cached.lookupBump(gens.length, ...gens, opts.ttlSeconds * 2).catch((err: unknown) => {
        // Answers depending on these keys may be served until they expire (ttlSeconds).
        opts.logger.warn({ err, keys: unique.length }, 'could not invalidate lookups');
      });
    },
  };
}

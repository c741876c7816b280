import type { Redis } from 'ioredis';

/** Lookup families whose key names carry personal data (a phone, a WhatsApp id) or whose answers list any customer (names). */
const TENANT_WIDE = new Set(['phone', 'wa', 'names']);
/** Families whose key names carry personal data: their generations are deleted, never bumped (a bump would write the name again). */
const NAMED_BY_PERSONAL_DATA = new Set(['phone', 'wa']);

/**
 * Removes every cached read-API answer that may hold the customer's data (lookup-cache.ts): the
 * answers of its customer, conversation and Genesys-id dependencies, and all of the tenant's
 * phone, WhatsApp-id and name-search answers (their keys and answers may carry the customer's
 * phone or name, and after the erasure the database no longer says which). The customer's
 * dependencies' generations are bumped, so an answer read before the erasure's commit is never
 * cached under the new one; the phone and WhatsApp-id generations are deleted along with all
 * their answers. A lookup in flight across the commit that found no generation at all may still
 * cache its answer for up to the cache TTL; asking for the erasure again purges it. Idempotent:
 * it needs nothing the erasure removed, so a resumed erasure runs it again as is.
 */
export async function purgeCustomerLookups(
  redis: Redis,
  tenantId: string,
  dependencies: { customerId: string; conversationIds: string[]; genesysConversationIds: string[] },
  ttlSeconds: number,
): Promise<number> {
  const prefix = redis.options.keyPrefix ?? '';
  const own = new Set([
    `cust:${dependencies.customerId}`,
    ...dependencies.conversationIds.map((c) => `conv:${c}`),
    ...dependencies.genesysConversationIds.map((g) => `gc:${g}`),
  ]);
  const answers = `${prefix}lookup:${tenantId}:`;
  const gens = `${prefix}lookup-gen:${tenantId}:`;
  const remove: string[] = [];
  const bump = new Set<string>([...own, 'names'].map((d) => `lookup-gen:${tenantId}:${d}`));
  for (const pattern of [`${answers}*`, `${gens}*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const full of keys) {
        const isGen = full.startsWith(gens);
        const rest = full.slice(isGen ? gens.length : answers.length);
        const [family = '', id = ''] = rest.split(':');
        const dependency = `${family}:${id}`;
        if (isGen ? NAMED_BY_PERSONAL_DATA.has(family) : TENANT_WIDE.has(family) || own.has(dependency))
          remove.push(full.slice(prefix.length));
      }
    } while (cursor !== '0');
  }
  const multi = redis.multi();
  for (const g of bump) multi.incr(g).expire(g, ttlSeconds * 2);
  for (let i = 0; i < remove.length; i += 500) multi.del(...remove.slice(i, i + 500));
  await multi.exec();
  return remove.length;
}

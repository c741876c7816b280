import type { Executor } from '@switchboard/db';
import type { AfterCommit } from '@switchboard/worker';
import { sql } from 'drizzle-orm';
import type { LookupCache } from './lookup-cache.ts';

/**
 * The lookup keys this transaction's writes touched so far ('<tenant>:<family>:<id>'), as the
 * statement triggers of migration 0013 recorded them in the transaction-local
 * `switchboard.lookup_keys`. Read last thing before commit; bump them after (LookupCache.invalidate).
 */
export async function touchedLookupKeys(tx: Executor): Promise<string[]> {
  const res = await tx.execute<{ keys: string | null }>(
    sql`select current_setting('switchboard.lookup_keys', true) as keys`,
  );
  const text = res.rows[0]?.keys ?? '';
  return [...new Set(text.split('\n').filter((k) => k.length > 0))];
}

/**
 * The unit of work's last step in the sync-worker: the keys the transaction touched, read just
 * before commit, become the read cache's invalidation once it committed (a rolled-back
 * transaction tells the cache nothing).
 */
export function invalidateTouched(lookups: Pick<LookupCache, 'invalidate'>) {
  return async (tx: Executor): Promise<AfterCommit | undefined> => {
    const keys = await touchedLookupKeys(tx);
    return keys.length > 0 ? () => lookups.invalidate(keys) : undefined;
  };
}

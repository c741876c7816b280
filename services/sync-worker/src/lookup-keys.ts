import type { CommitRead } from '@switchboard/worker';
import type { LookupCache } from './lookup-cache.ts';

/**
 * The unit of work's last step in the sync-worker, sent with its COMMIT: the lookup keys the
 * transaction's writes touched ('<tenant>:<family>:<id>'), as the statement triggers of migration
 * 0013 recorded them in the transaction-local `switchboard.lookup_keys`, become the read cache's
 * invalidation once it committed (a rolled-back transaction tells the cache nothing).
 */
export function invalidateTouched(lookups: Pick<LookupCache, 'invalidate'>): CommitRead {
  return {
    sql: "select current_setting('switchboard.lookup_keys', true) as keys",
    afterCommit: (rows) => {
      const text = rows[0]?.keys;
      const keys = typeof text === 'string' ? [...new Set(text.split('\n').filter((k) => k.length > 0))] : [];
      return keys.length > 0 ? () => lookups.invalidate(keys) : undefined;
    },
  };
}

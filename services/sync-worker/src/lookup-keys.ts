import type { Executor } from '@switchboard/db';
import { sql } from 'drizzle-orm';

/**
 * The lookup keys this transaction's writes touched so far ('<tenant>:<family>:<id>'), as the
 * statement triggers of migration 0016 recorded them in the transaction-local
 * `switchboard.lookup_keys`. Read last thing before commit; bump them after (LookupCache.invalidate).
 */
export async function touchedLookupKeys(tx: Executor): Promise<string[]> {
  const res = await tx.execute<{ keys: string | null }>(
    sql`select current_setting('switchboard.lookup_keys', true) as keys`,
  );
  const text = res.rows[0]?.keys ?? '';
  return [...new Set(text.split('\n').filter((k) => k.length > 0))];
}

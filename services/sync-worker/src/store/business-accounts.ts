import type { Executor } from '@switchboard/db';
import type { AfterCommit } from '@switchboard/worker';
import { sql } from 'drizzle-orm';

const p = (v: unknown[]) => sql.param(v);

/**
 * The WhatsApp Business Accounts this process has seen stored. A stored WABA stays as it is (first
 * writer wins, and nothing deletes one), so inserting it again can change nothing: its insert is
 * skipped. Bounded: past `max` entries it starts again empty (an insert more, nothing wrong).
 */
export interface KnownBusinessAccounts {
  has(businessAccountId: string): boolean;
  add(businessAccountIds: Iterable<string>): void;
}

export function knownBusinessAccounts(max = 10_000): KnownBusinessAccounts {
  const known = new Set<string>();
  return {
    has: (id) => known.has(id),
    add(ids) {
      for (const id of ids) {
        if (known.size >= max) known.clear();
        known.add(id);
      }
    },
  };
}

/**
 * Learns which tenant each WhatsApp Business Account belongs to from the channels its numbers'
 * messages came in on. First writer wins: a WABA's numbers all belong to one tenant, and a WABA
 * already known keeps its tenant (the channel registry, not a webhook, decides ownership).
 * With `known`, WABAs it holds are not written, and the rest join it once the transaction
 * committed (the returned hook): a rolled-back insert is not remembered.
 */
export async function learnBusinessAccounts(
  tx: Executor,
  rows: Array<{ businessAccountId: string; tenantId: string; channelId: string }>,
  known?: KnownBusinessAccounts,
): Promise<AfterCommit | undefined> {
  const unique = [...new Map(rows.map((r) => [r.businessAccountId, r])).values()].filter(
    (r) => !known?.has(r.businessAccountId),
  );
  if (unique.length === 0) return undefined;
  await tx.execute(sql`
    insert into whatsapp_business_accounts (business_account_id, tenant_id, channel_id)
    select * from unnest(${p(unique.map((r) => r.businessAccountId))}::text[], ${p(unique.map((r) => r.tenantId))}::uuid[],
                         ${p(unique.map((r) => r.channelId))}::uuid[])
    on conflict (business_account_id) do nothing`);
  if (!known) return undefined;
  return async () => known.add(unique.map((r) => r.businessAccountId));
}

/** The channel an account-level webhook's WABA was learned from, if any. */
export async function channelOfBusinessAccount(
  db: Executor,
  businessAccountId: string,
): Promise<{ tenant_id: string; account_id: string } | undefined> {
  const res = await db.execute<{ tenant_id: string; account_id: string }>(sql`
    select w.tenant_id, ch.account_id from whatsapp_business_accounts w join channels ch on ch.id = w.channel_id
     where w.business_account_id = ${businessAccountId}`);
  return res.rows[0];
}

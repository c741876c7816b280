import type { Executor } from '@switchboard/db';
import { sql } from 'drizzle-orm';

const p = (v: unknown[]) => sql.param(v);

/**
 * Learns which tenant each WhatsApp Business Account belongs to from the channels its numbers'
 * messages came in on. First writer wins: a WABA's numbers all belong to one tenant, and a WABA
 * already known keeps its tenant (the channel registry, not a webhook, decides ownership).
 */
export async function learnBusinessAccounts(
  tx: Executor,
  rows: Array<{ businessAccountId: string; tenantId: string; channelId: string }>,
): Promise<void> {
  const unique = [...new Map(rows.map((r) => [r.businessAccountId, r])).values()];
  if (unique.length === 0) return;
  await tx.execute(sql`
    insert into whatsapp_business_accounts (business_account_id, tenant_id, channel_id)
    select * from unnest(${p(unique.map((r) => r.businessAccountId))}::text[], ${p(unique.map((r) => r.tenantId))}::uuid[],
                         ${p(unique.map((r) => r.channelId))}::uuid[])
    on conflict (business_account_id) do nothing`);
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

import type { ProviderError } from '@switchboard/contracts';
import { type ChangeContext, type Executor, pgSafe, setChangeContext } from '@switchboard/db';
import type { DeliveryStatus } from '@switchboard/domain';
import { sql } from 'drizzle-orm';

/**
 * Set-based statements for a batch of inbound messages: one statement per step, whatever the
 * batch size. Arrays go in as single parameters and come apart with `unnest`.
 */

const p = (v: unknown[]) => sql.param(v);

export type CustomerRow = {
  id: string;
  tenant_id: string;
  phone_e164: string;
};

/**
 * Customers by (tenant, phone), created when missing and renamed when the profile name changed.
 * Input must hold each (tenant, phone) once. Concurrent creators converge on the unique index.
 */
export async function upsertCustomers(
  tx: Executor,
  rows: Array<{ tenantId: string; phone: string; whatsappId: string; name: string | null }>,
): Promise<CustomerRow[]> {
  const res = await tx.execute<CustomerRow>(sql`
    insert into customers (tenant_id, phone_e164, whatsapp_id, name)
    select * from unnest(${p(rows.map((r) => r.tenantId))}::uuid[], ${p(rows.map((r) => r.phone))}::text[],
                         ${p(rows.map((r) => r.whatsappId))}::text[], ${p(rows.map((r) => pgSafe(r.name)))}::text[])
    on conflict (tenant_id, phone_e164) where phone_e164 is not null do update
      set name = coalesce(excluded.name, customers.name),
          whatsapp_id = coalesce(excluded.whatsapp_id, customers.whatsapp_id),
          updated_at = now()
      where customers.name is distinct from coalesce(excluded.name, customers.name)
         or customers.whatsapp_id is distinct from coalesce(excluded.whatsapp_id, customers.whatsapp_id)
    returning id, tenant_id, phone_e164`);
  // Rows the WHERE left alone are not returned: read them.
  const found = new Map(res.rows.map((r) => [`${r.tenant_id}/${r.phone_e164}`, r]));
  const missing = rows.filter((r) => !found.has(`${r.tenantId}/${r.phone}`));
  if (missing.length > 0) {
    const rest = await tx.execute<CustomerRow>(sql`
      select c.id, c.tenant_id, c.phone_e164 from customers c
      join unnest(${p(missing.map((r) => r.tenantId))}::uuid[], ${p(missing.map((r) => r.phone))}::text[]) as k(t, ph)
        on c.tenant_id = k.t and c.phone_e164 = k.ph`);
    for (const r of rest.rows) found.set(`${r.tenant_id}/${r.phone_e164}`, r);
  }
  return [...found.values()];
}

export interface ConversationRow {
  id: string;
  channel_id: string;
  customer_id: string;
  status: 'open' | 'active' | 'closed';
  genesys_conversation_id: string | null;
  opened_at: Date;
  created: boolean;
}

interface ConversationKey {
  tenantId: string;
  channelId: string;
  customerId: string;
  provider: string;
  activityAt: Date;
}

const firstMessage: ChangeContext = { source: 'customer', reason: 'first customer message' };

/**
 * Each customer's live conversation on each channel, touched for activity (row lock + version
 * bump: the fencing token) or created when there is none, its history row saying who opened it
 * (`opener`). The partial unique index makes concurrent creators converge; a loser finds the
 * winner's row on its next pass. Keys are sorted so concurrent batches lock rows in one order.
 */
export async function touchLiveConversations(
  tx: Executor,
  keys: ConversationKey[],
  opener: ChangeContext = firstMessage,
): Promise<ConversationRow[]> {
  const out: ConversationRow[] = [];
  let todo = [...keys].sort((a, b) => `${a.channelId}${a.customerId}`.localeCompare(`${b.channelId}${b.customerId}`));
  for (let pass = 0; pass < 3 && todo.length > 0; pass++) {
    const touched = await tx.execute<Omit<ConversationRow, 'created'>>(sql`
      update conversations c
         set last_activity_at = greatest(c.last_activity_at, v.at), version = c.version + 1
        from unnest(${p(todo.map((k) => k.channelId))}::uuid[], ${p(todo.map((k) => k.customerId))}::uuid[],
                    ${p(todo.map((k) => k.activityAt.toISOString()))}::timestamptz[]) as v(channel_id, customer_id, at)
       where c.channel_id = v.channel_id and c.customer_id = v.customer_id and c.status <> 'closed'
      returning c.id, c.channel_id, c.customer_id, c.status, c.genesys_conversation_id, c.opened_at`);
    for (const r of touched.rows) out.push({ ...r, created: false });
    const have = new Set(touched.rows.map((r) => `${r.channel_id}/${r.customer_id}`));
    const absent = todo.filter((k) => !have.has(`${k.channelId}/${k.customerId}`));
    if (absent.length === 0) return out;
    await setChangeContext(tx, opener);
    const created = await tx.execute<Omit<ConversationRow, 'created'>>(sql`
      insert into conversations (tenant_id, channel_id, customer_id, provider, status, last_activity_at)
      select t, ch, cu, pr, 'open', at
        from unnest(${p(absent.map((k) => k.tenantId))}::uuid[], ${p(absent.map((k) => k.channelId))}::uuid[],
                    ${p(absent.map((k) => k.customerId))}::uuid[], ${p(absent.map((k) => k.provider))}::text[],
                    ${p(absent.map((k) => k.activityAt.toISOString()))}::timestamptz[]) as v(t, ch, cu, pr, at)
      on conflict (channel_id, customer_id) where status <> 'closed' and provider <> 'mailgun' do nothing
      returning id, channel_id, customer_id, status, genesys_conversation_id, opened_at`);
    for (const r of created.rows) out.push({ ...r, created: true });
    const made = new Set(created.rows.map((r) => `${r.channel_id}/${r.customer_id}`));
    todo = absent.filter((k) => !made.has(`${k.channelId}/${k.customerId}`));
  }
  if (todo.length > 0) throw new Error('live conversation kept changing under us');
  return out;
}

export interface NewMessageRow {
  tenantId: string;
  conversationId: string;
  direction: 'inbound' | 'outbound';
  provider: string;
  providerMessageId: string;
  type: string;
  body: string | null;
  content: Record<string, unknown>;
  providerSentAt: Date;
}

/** Inserts messages; returns those stored now (a provider id already stored is left out). */
export async function insertMessages(
  tx: Executor,
  rows: NewMessageRow[],
): Promise<Array<{ id: string; provider_message_id: string; tenant_id: string; received_at: Date }>> {
  const res = await tx.execute<{ id: string; provider_message_id: string; tenant_id: string; received_at: Date }>(sql`
    insert into messages (tenant_id, conversation_id, direction, provider, provider_message_id, type, body, content, provider_sent_at)
    select * from unnest(${p(rows.map((r) => r.tenantId))}::uuid[], ${p(rows.map((r) => r.conversationId))}::uuid[],
                         ${p(rows.map((r) => r.direction))}::text[], ${p(rows.map((r) => r.provider))}::text[],
                         ${p(rows.map((r) => r.providerMessageId))}::text[], ${p(rows.map((r) => r.type))}::text[],
                         ${p(rows.map((r) => pgSafe(r.body)))}::text[], ${p(rows.map((r) => JSON.stringify(pgSafe(r.content))))}::jsonb[],
                         ${p(rows.map((r) => r.providerSentAt.toISOString()))}::timestamptz[])
    on conflict (tenant_id, provider, provider_message_id) do nothing
    returning id, provider_message_id, tenant_id, received_at`);
  return res.rows.map((r) => ({ ...r, received_at: new Date(r.received_at) }));
}

/**
 * Takes the transaction-scoped advisory locks of many message keys, in one sorted order (see
 * `lockMessageKey`: the lock that makes "store a message" and "hold its status" see each other).
 */
export async function lockMessageKeys(tx: Executor, keys: string[]): Promise<void> {
  await tx.execute(sql`
    select pg_advisory_xact_lock(hashtextextended(k, 0))
      from (select k from unnest(${p(keys)}::text[]) as k order by k) sorted`);
}

export type HeldRow = {
  tenant_id: string;
  provider_message_id: string;
  status: DeliveryStatus;
  at: Date;
  errors: ProviderError[] | null;
};

/**
 * Removes and returns the statuses held for these messages, keyed `tenant/providerMessageId`,
 * oldest first. Callers hold the messages' advisory locks (see `lockMessageKeys`).
 */
export async function takeHeldStatusesMany(
  tx: Executor,
  provider: string,
  keys: Array<{ tenantId: string; providerMessageId: string }>,
): Promise<Map<string, HeldRow[]>> {
  const res = await tx.execute<HeldRow>(sql`
    delete from pending_statuses ps
     using unnest(${p(keys.map((k) => k.tenantId))}::uuid[], ${p(keys.map((k) => k.providerMessageId))}::text[]) as k(t, m)
     where ps.tenant_id = k.t and ps.provider = ${provider} and ps.provider_message_id = k.m
    returning ps.tenant_id, ps.provider_message_id, ps.status, ps.at, ps.errors`);
  const out = new Map<string, HeldRow[]>();
  for (const r of res.rows.sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime())) {
    const key = `${r.tenant_id}/${r.provider_message_id}`;
    out.set(key, [...(out.get(key) ?? []), { ...r, at: new Date(r.at) }]);
  }
  return out;
}

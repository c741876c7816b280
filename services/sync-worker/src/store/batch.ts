import { type ChangeContext, type Executor, pgSafe, setChangeContext } from '@switchboard/db';
import { sql } from 'drizzle-orm';
import { keyedMap } from '../keyed-map.ts';

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

export interface NewCustomer {
  tenantId: string;
  phone: string;
  whatsappId: string;
  name: string | null;
}

/**
 * Customers by (tenant, phone), created when missing and renamed when the profile name changed.
 * Input must hold each (tenant, phone) once. Concurrent creators converge on the unique index.
 *
 * Most senders wrote before and changed nothing: they are read and share-locked (the lock the
 * upsert's conflict path took on them, kept so a concurrent merge of one of them waits for this
 * transaction, or this one for the merge), and not written. Only the missing and the changed go
 * through the upsert, which otherwise ran on every batch with its customers' insert and update
 * statement triggers, and was followed by a select for the rows it left alone.
 */
export async function upsertCustomers(tx: Executor, rows: NewCustomer[]): Promise<CustomerRow[]> {
  const found = keyedMap<readonly [string, string], CustomerRow>();
  const stale: NewCustomer[] = [];
  const existing = keyedMap((await selectCustomers(tx, rows)).map((r) => [[r.tenant_id, r.phone_e164] as const, r]));
  for (const r of rows) {
    const e = existing.get([r.tenantId, r.phone]);
    if (e && isCurrent(e, r)) found.set([r.tenantId, r.phone], e);
    else stale.push(r);
  }
  if (stale.length === 0) return [...found.values()];
  const res = await tx.execute<CustomerRow>(sql`
    insert into customers (tenant_id, phone_e164, whatsapp_id, name)
    select * from unnest(${p(stale.map((r) => r.tenantId))}::uuid[], ${p(stale.map((r) => r.phone))}::text[],
                         ${p(stale.map((r) => r.whatsappId))}::text[], ${p(stale.map((r) => pgSafe(r.name)))}::text[])
    on conflict (tenant_id, phone_e164) where phone_e164 is not null do update
      set name = coalesce(excluded.name, customers.name),
          whatsapp_id = coalesce(excluded.whatsapp_id, customers.whatsapp_id),
          updated_at = now()
      where customers.name is distinct from coalesce(excluded.name, customers.name)
         or customers.whatsapp_id is distinct from coalesce(excluded.whatsapp_id, customers.whatsapp_id)
    returning id, tenant_id, phone_e164`);
  for (const r of res.rows) found.set([r.tenant_id, r.phone_e164], r);
  // Rows the WHERE left alone (a concurrent writer got there first) are not returned: read them.
  const missing = stale.filter((r) => !found.has([r.tenantId, r.phone]));
  if (missing.length > 0) for (const r of await selectCustomers(tx, missing)) found.set([r.tenant_id, r.phone_e164], r);
  return [...found.values()];
}

type ExistingCustomer = CustomerRow & { name: string | null; whatsapp_id: string | null };

/** Whether the upsert would leave this row as it is (its WHERE, in JavaScript). */
const isCurrent = (e: ExistingCustomer, r: NewCustomer) =>
  (r.name === null || e.name === pgSafe(r.name)) && e.whatsapp_id === r.whatsappId;

/**
 * The customers with these (tenant, phone) pairs, share-locked: a lookup per pair (`offset 0`
 * keeps the lateral subquery from being flattened into a join). As a join, a table without
 * statistics yet (a new database, before autovacuum's first analyze) was planned as a scan of all
 * the tenant's customers through the RLS tenant condition, each compared with every pair:
 * 0.5–1.2 ms a call in the bench for a handful of rows.
 */
async function selectCustomers(
  tx: Executor,
  keys: Array<{ tenantId: string; phone: string }>,
): Promise<ExistingCustomer[]> {
  const res = await tx.execute<ExistingCustomer>(sql`
    select c.id, c.tenant_id, c.phone_e164, c.name, c.whatsapp_id
      from unnest(${p(keys.map((r) => r.tenantId))}::uuid[], ${p(keys.map((r) => r.phone))}::text[]) as k(t, ph)
      cross join lateral (
        select id, tenant_id, phone_e164, name, whatsapp_id from customers
         where tenant_id = k.t and phone_e164 = k.ph offset 0 for share) c`);
  return res.rows;
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

export interface LiveConversationInput {
  tenantId: string;
  channelId: string;
  customerId: string;
  provider: string;
  activityAt: Date;
}

type LiveConversation = Omit<ConversationRow, 'created'>;

const firstMessage: ChangeContext = { source: 'customer', reason: 'first customer message' };
const liveKey = (r: { channel_id: string; customer_id: string }) => [r.channel_id, r.customer_id] as const;
const inputKey = (k: LiveConversationInput) => [k.channelId, k.customerId] as const;

/**
 * Each customer's live conversation on each channel, touched for activity (row lock + version
 * bump: the fencing token) or created when there is none, its history row saying who opened it
 * (`opener`). The partial unique index makes concurrent creators converge; a loser finds the
 * winner's row on its next pass. Keys are sorted so concurrent batches lock rows in one order.
 */
export async function touchLiveConversations(
  tx: Executor,
  keys: LiveConversationInput[],
  opener: ChangeContext = firstMessage,
): Promise<ConversationRow[]> {
  const out: ConversationRow[] = [];
  let todo = [...keys].sort(
    (a, b) => a.channelId.localeCompare(b.channelId) || a.customerId.localeCompare(b.customerId),
  );
  for (let pass = 0; pass < 3 && todo.length > 0; pass++) {
    const touched = keyedMap((await touchConversations(tx, todo)).map((r) => [liveKey(r), r]));
    for (const r of touched.values()) out.push({ ...r, created: false });
    const absent = todo.filter((k) => !touched.has(inputKey(k)));
    if (absent.length === 0) return out;
    const opened = keyedMap((await openConversations(tx, absent, opener)).map((r) => [liveKey(r), r]));
    for (const r of opened.values()) out.push({ ...r, created: true });
    todo = absent.filter((k) => !opened.has(inputKey(k)));
  }
  if (todo.length > 0) throw new Error('live conversation kept changing under us');
  return out;
}

/** The live (not closed) conversations of these keys, their activity moved forward. */
async function touchConversations(tx: Executor, keys: LiveConversationInput[]): Promise<LiveConversation[]> {
  const res = await tx.execute<LiveConversation>(sql`
    update conversations c
       set last_activity_at = greatest(c.last_activity_at, v.at), version = c.version + 1
      from unnest(${p(keys.map((k) => k.channelId))}::uuid[], ${p(keys.map((k) => k.customerId))}::uuid[],
                  ${p(keys.map((k) => k.activityAt.toISOString()))}::timestamptz[]) as v(channel_id, customer_id, at)
     where c.channel_id = v.channel_id and c.customer_id = v.customer_id and c.status <> 'closed'
    returning c.id, c.channel_id, c.customer_id, c.status, c.genesys_conversation_id, c.opened_at`);
  return res.rows;
}

/** Opens a conversation for each key; a key whose conversation a concurrent writer opened first is left out. */
async function openConversations(
  tx: Executor,
  keys: LiveConversationInput[],
  opener: ChangeContext,
): Promise<LiveConversation[]> {
  await setChangeContext(tx, opener);
  const res = await tx.execute<LiveConversation>(sql`
    insert into conversations (tenant_id, channel_id, customer_id, provider, status, last_activity_at)
    select t, ch, cu, pr, 'open', at
      from unnest(${p(keys.map((k) => k.tenantId))}::uuid[], ${p(keys.map((k) => k.channelId))}::uuid[],
                  ${p(keys.map((k) => k.customerId))}::uuid[], ${p(keys.map((k) => k.provider))}::text[],
                  ${p(keys.map((k) => k.activityAt.toISOString()))}::timestamptz[]) as v(t, ch, cu, pr, at)
    on conflict (channel_id, customer_id) where status <> 'closed' and provider <> 'mailgun' do nothing
    returning id, channel_id, customer_id, status, genesys_conversation_id, opened_at`);
  return res.rows;
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

export type InsertedMessage = {
  id: string;
  provider_message_id: string;
  tenant_id: string;
  received_at: Date;
};

/** Inserts messages; returns those stored now (a provider id already stored is left out). */
export async function insertMessages(tx: Executor, rows: NewMessageRow[]): Promise<InsertedMessage[]> {
  const res = await tx.execute<InsertedMessage>(sql`
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

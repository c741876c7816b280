import { type Executor, mayHoldUnstorableText, pgSafe, setChangeContext } from '@switchboard/db';
import { sql } from 'drizzle-orm';
import { customerLock, findThreadAncestors, type ThreadHit } from './email-round.ts';

const p = (v: unknown[]) => sql.param(v);

/** Email threading storage: customers by address, the per-customer Message-ID graph, threads as conversations. */

/**
 * The customer with this address in the tenant, created when missing (concurrent creators
 * converge on the unique index), and the lock that serializes the threading of that customer's
 * emails (transaction-scoped advisory lock): a reply sees its parent if the parent committed
 * first. Statements after this one see what the previous lock holder committed.
 *
 * A known customer is row-locked (as the upsert would lock it) but written only when the email
 * brings a name it lacks: an update that changes nothing still writes a row version and fires the
 * lookup-cache triggers, which invalidate every lookup of the customer and its conversations. A
 * customer changed meanwhile is re-read under the lock (its address gone: not found, so created as
 * before); one inserted meanwhile by another transaction is met by the insert's conflict arm.
 */
export async function upsertAndLockEmailCustomer(
  tx: Executor,
  tenantId: string,
  email: string,
  name: string | null,
): Promise<string> {
  const res = await tx.execute<{ id: string }>(sql`
    with ${customerOf(tenantId, email, name)}
    select c.id from c, lateral (select ${customerLock(tenantId, sql`c.id`)}) l`);
  const id = res.rows[0]?.id;
  if (!id) throw new Error('customer upsert returned nothing');
  return id;
}

/** The customer CTEs of the one above (`found`, `named`, `created`, and `c`: its id). */
const customerOf = (tenantId: string, email: string, name: string | null) => sql`
    found as (
      select id, name from customers where tenant_id = ${tenantId} and email = ${email} for no key update
    ), named as (
      update customers set name = ${pgSafe(name)}::text
       where id = (select id from found where name is null) and ${pgSafe(name)}::text is not null
    ), created as (
      insert into customers (tenant_id, email, name)
      select ${tenantId}::uuid, ${email}::text, ${pgSafe(name)}::text where not exists (select 1 from found)
      on conflict (tenant_id, email) where email is not null
        do update set name = coalesce(customers.name, excluded.name)
      returning id
    ), c as (select id from found union all select id from created)`;

/** The nearest ancestor of a new message that this customer's threads hold (`findThreadAncestors` for one). */
export async function findThreadAncestor(
  tx: Executor,
  tenantId: string,
  customerId: string,
  chain: string[],
): Promise<ThreadHit | null> {
  return (await findThreadAncestors(tx, tenantId, [{ customerId, chain }]))[0] ?? null;
}

export interface NewEmailConversation {
  tenantId: string;
  channelId: string;
  customerId: string;
  at: Date;
}

/** A new email conversation (one per thread) and its lead journey, at NEW/cold (`createEmailConversations` for one). */
export async function createEmailConversation(
  tx: Executor,
  k: NewEmailConversation & { openedBy?: 'customer' | 'system' },
): Promise<{ id: string; openedAt: Date }> {
  const [created] = await createEmailConversations(tx, [k], k.openedBy);
  if (!created) throw new Error('conversation insert returned nothing');
  return created;
}

/**
 * A new email conversation for each input (one per thread), each with its lead journey at
 * NEW/cold, in one statement; their history rows say who opened them. In input order; each
 * customer at most once (rows are matched back to inputs by customer).
 */
export async function createEmailConversations(
  tx: Executor,
  keys: NewEmailConversation[],
  openedBy: 'customer' | 'system' = 'customer',
): Promise<Array<{ id: string; openedAt: Date }>> {
  if (keys.length === 0) return [];
  await setChangeContext(tx, {
    source: openedBy,
    reason: openedBy === 'system' ? 'email sent outside the pipeline' : 'first customer email',
  });
  const res = await tx.execute<{ k: number; id: string; opened_at: Date }>(sql`
    with v as (
      select * from unnest(${p(keys.map((k) => k.tenantId))}::uuid[], ${p(keys.map((k) => k.channelId))}::uuid[],
                           ${p(keys.map((k) => k.customerId))}::uuid[], ${p(keys.map((k) => k.at.toISOString()))}::timestamptz[])
               with ordinality as v(tenant_id, channel_id, customer_id, at, k)
    ), co as (
      insert into conversations (tenant_id, channel_id, customer_id, provider, status, last_activity_at)
      select tenant_id, channel_id, customer_id, 'mailgun', 'open', at from v order by k
      returning id, tenant_id, customer_id, opened_at
    ), lj as (
      insert into lead_journeys (conversation_id, tenant_id, customer_id) select id, tenant_id, customer_id from co
    )
    select v.k::int as k, co.id, co.opened_at from co join v on v.tenant_id = co.tenant_id and v.customer_id = co.customer_id
     order by v.k`);
  if (res.rows.length !== keys.length) throw new Error('conversation insert did not return one row per input');
  return res.rows.map((r) => ({ id: r.id, openedAt: new Date(r.opened_at) }));
}

export interface NewEmailMessage {
  tenantId: string;
  conversationId: string;
  customerId: string;
  direction: 'inbound' | 'outbound';
  messageIdHeader: string;
  parentId: string | null;
  inReplyTo: string[];
  references: string[];
  subject: string | null;
  normalizedSubject: string;
  body: string | null;
  content: Record<string, unknown>;
  sentAt: Date;
}

/** JSON of `value` that Postgres can store: text it cannot hold (NUL, lone surrogates) replaced, when there is any. */
const storableJson = (value: unknown) => {
  const json = JSON.stringify(value);
  return mayHoldUnstorableText(json) ? JSON.stringify(pgSafe(value)) : json;
};

/** `insertEmailMessages` for one: null when a message with this Message-ID is already stored. */
export async function insertEmailMessage(
  tx: Executor,
  m: NewEmailMessage,
): Promise<{ id: string; receivedAt: Date } | null> {
  return (await insertEmailMessages(tx, [m])).get(m.messageIdHeader) ?? null;
}

/**
 * Stores the messages and their threading rows, and marks activity on their conversations
 * (version bump, as for WhatsApp), in one statement; by Message-ID, the ones stored now (one
 * already stored is left out: callers check first, under the message's advisory lock). Each
 * Message-ID at most once.
 */
export async function insertEmailMessages(
  tx: Executor,
  rows: NewEmailMessage[],
): Promise<Map<string, { id: string; receivedAt: Date }>> {
  if (rows.length === 0) return new Map();
  const input = rows.map((m, i) => ({
    k: i + 1,
    tenant_id: m.tenantId,
    conversation_id: m.conversationId,
    customer_id: m.customerId,
    direction: m.direction,
    message_id_header: m.messageIdHeader,
    parent_id: m.parentId,
    in_reply_to: m.inReplyTo,
    references: m.references,
    subject: m.subject,
    normalized_subject: m.normalizedSubject,
    body: m.body,
    content: m.content,
    sent_at: m.sentAt.toISOString(),
  }));
  const res = await tx.execute<{ id: string; received_at: Date; provider_message_id: string }>(sql`
    with v as (
      select * from jsonb_to_recordset(${storableJson(input)}::jsonb) as v(
        k int, tenant_id uuid, conversation_id uuid, customer_id uuid, direction text, message_id_header text, parent_id uuid,
        in_reply_to text[], "references" text[], subject text, normalized_subject text, body text, content jsonb,
        sent_at timestamptz)
    ), touched as (
      update conversations c set last_activity_at = greatest(c.last_activity_at, a.at), version = c.version + 1
        from (select conversation_id, max(sent_at) as at from v group by conversation_id) a
       where c.id = a.conversation_id
    ), msg as (
      insert into messages (tenant_id, conversation_id, direction, provider, provider_message_id, type, body, content, provider_sent_at)
      select tenant_id, conversation_id, direction, 'mailgun', message_id_header, 'email', body, content, sent_at from v order by k
      on conflict (tenant_id, provider, provider_message_id) do nothing
      returning id, received_at, provider_message_id
    ), em as (
      insert into email_messages (message_id, tenant_id, conversation_id, customer_id, message_id_header, parent_id,
                                  in_reply_to, "references", subject, normalized_subject, direction, sent_at)
      select msg.id, v.tenant_id, v.conversation_id, v.customer_id, v.message_id_header, v.parent_id,
             v.in_reply_to, v."references", v.subject, v.normalized_subject, v.direction, v.sent_at
        from msg join v on v.message_id_header = msg.provider_message_id
       order by v.k
    )
    select id, received_at, provider_message_id from msg`);
  return new Map(res.rows.map((r) => [r.provider_message_id, { id: r.id, receivedAt: new Date(r.received_at) }]));
}

export type ThreadRow = {
  message_id: string;
  message_id_header: string;
  parent_id: string | null;
  in_reply_to: string[];
  references: string[];
  subject: string | null;
  direction: 'inbound' | 'outbound';
  sent_at: Date;
  body: string | null;
  delivery_status: string | null;
};

/** Every email message of a conversation, oldest first, scoped by tenant. */
export async function listThread(tx: Executor, tenantId: string, conversationId: string): Promise<ThreadRow[]> {
  const res = await tx.execute<ThreadRow>(sql`
    select em.message_id, em.message_id_header, em.parent_id, em.in_reply_to, em."references", em.subject,
           em.direction, em.sent_at, m.body, m.delivery_status
      from email_messages em join messages m on m.id = em.message_id
     where em.tenant_id = ${tenantId} and em.conversation_id = ${conversationId}
     order by em.sent_at, em.message_id`);
  return res.rows.map((r) => ({ ...r, sent_at: new Date(r.sent_at) }));
}

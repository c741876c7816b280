import { type Executor, pgSafe, setChangeContext } from '@switchboard/db';
import { type SQL, sql } from 'drizzle-orm';

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
    with ${customerOf(tenantId, email, name, sql`true`)}
    select c.id from c, lateral (select ${lockCustomer(tenantId)}) l`);
  const id = res.rows[0]?.id;
  if (!id) throw new Error('customer upsert returned nothing');
  return id;
}

/**
 * `upsertAndLockEmailCustomer` for an inbound email, unless a message with its Message-ID is
 * already stored: then null, and no customer is touched or locked. The caller holds the message's
 * advisory lock, so this statement (begun after it) sees a copy that committed first.
 */
export async function customerOfNewEmail(
  tx: Executor,
  tenantId: string,
  messageIdHeader: string,
  email: string,
  name: string | null,
): Promise<string | null> {
  const res = await tx.execute<{ id: string | null }>(sql`
    with stored as (
      select 1 from messages where tenant_id = ${tenantId} and provider = 'mailgun' and provider_message_id = ${messageIdHeader}
    ), ${customerOf(tenantId, email, name, sql`not exists (select 1 from stored)`)}
    select c.id from c, lateral (select ${lockCustomer(tenantId)}) l
    union all select null::uuid from stored`);
  const row = res.rows[0];
  if (!row) throw new Error('customer upsert returned nothing');
  return row.id;
}

/** The customer CTEs of the two above (`found`, `named`, `created`, and `c`: its id), run only when `when`. */
const customerOf = (tenantId: string, email: string, name: string | null, when: SQL) => sql`
    found as (
      select id, name from customers where tenant_id = ${tenantId} and email = ${email} and ${when} for no key update
    ), named as (
      update customers set name = ${pgSafe(name)}::text
       where id = (select id from found where name is null) and ${pgSafe(name)}::text is not null
    ), created as (
      insert into customers (tenant_id, email, name)
      select ${tenantId}::uuid, ${email}::text, ${pgSafe(name)}::text where not exists (select 1 from found) and ${when}
      on conflict (tenant_id, email) where email is not null
        do update set name = coalesce(customers.name, excluded.name)
      returning id
    ), c as (select id from found union all select id from created)`;

const lockCustomer = (tenantId: string) =>
  sql`pg_advisory_xact_lock(hashtextextended('email-customer/' || ${tenantId} || '/' || c.id, 0))`;

export interface ThreadHit {
  messageId: string;
  conversationId: string;
  messageIdHeader: string;
}

type HitRow = { message_id: string; conversation_id: string; message_id_header: string };
const firstHit = (rows: HitRow[]): ThreadHit | null => {
  const r = rows[0];
  return r
    ? { messageId: r.message_id, conversationId: r.conversation_id, messageIdHeader: r.message_id_header }
    : null;
};

/**
 * The nearest ancestor of a new message that this customer's threads hold: the last id of the
 * chain that is stored for (tenant, customer). Ids other customers hold are invisible, so a
 * stranger citing someone's thread starts a thread of their own.
 */
export async function findThreadAncestor(
  tx: Executor,
  tenantId: string,
  customerId: string,
  chain: string[],
): Promise<ThreadHit | null> {
  if (chain.length === 0) return null;
  const res = await tx.execute<HitRow>(sql`
    select em.message_id, em.conversation_id, em.message_id_header
      from unnest(${sql.param(chain)}::text[]) with ordinality as c(id, pos)
      join email_messages em
        on em.tenant_id = ${tenantId} and em.customer_id = ${customerId} and em.message_id_header = c.id
     order by c.pos desc, em.sent_at asc
     limit 1`);
  return firstHit(res.rows);
}

/**
 * The subject fallback: this customer's most recent email message whose normalized subject is
 * the same, in a conversation that is not closed, within `since`.
 */
export async function findBySubject(
  tx: Executor,
  tenantId: string,
  customerId: string,
  normalizedSubject: string,
  since: Date,
): Promise<ThreadHit | null> {
  if (normalizedSubject === '') return null;
  const res = await tx.execute<HitRow>(sql`
    select em.message_id, em.conversation_id, em.message_id_header
      from email_messages em join conversations c on c.id = em.conversation_id
     where em.tenant_id = ${tenantId} and em.customer_id = ${customerId}
       and em.normalized_subject = ${normalizedSubject} and em.sent_at >= ${since.toISOString()}
       and c.status <> 'closed'
     order by em.sent_at desc
     limit 1`);
  return firstHit(res.rows);
}

/** A new email conversation (one per thread) and its lead journey, at NEW/cold. */
export async function createEmailConversation(
  tx: Executor,
  k: { tenantId: string; channelId: string; customerId: string; at: Date; openedBy?: 'customer' | 'system' },
): Promise<{ id: string; openedAt: Date }> {
  await setChangeContext(tx, {
    source: k.openedBy ?? 'customer',
    reason: k.openedBy === 'system' ? 'email sent outside the pipeline' : 'first customer email',
  });
  const res = await tx.execute<{ id: string; opened_at: Date }>(sql`
    insert into conversations (tenant_id, channel_id, customer_id, provider, status, last_activity_at)
    values (${k.tenantId}, ${k.channelId}, ${k.customerId}, 'mailgun', 'open', ${k.at.toISOString()})
    returning id, opened_at`);
  const row = res.rows[0];
  if (!row) throw new Error('conversation insert returned nothing');
  await tx.execute(sql`
    insert into lead_journeys (conversation_id, tenant_id, customer_id) values (${row.id}, ${k.tenantId}, ${k.customerId})`);
  return { id: row.id, openedAt: new Date(row.opened_at) };
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

/**
 * Stores the message and its threading row, and marks activity on the conversation (version
 * bump, as for WhatsApp), in one statement; null when a message with this Message-ID is already
 * stored (callers check first, under the message's advisory lock).
 */
export async function insertEmailMessage(
  tx: Executor,
  m: NewEmailMessage,
): Promise<{ id: string; receivedAt: Date } | null> {
  const res = await tx.execute<{ id: string; received_at: Date }>(sql`
    with touched as (
      update conversations set last_activity_at = greatest(last_activity_at, ${m.sentAt.toISOString()}), version = version + 1
       where id = ${m.conversationId}
    ), msg as (
      insert into messages (tenant_id, conversation_id, direction, provider, provider_message_id, type, body, content, provider_sent_at)
      values (${m.tenantId}, ${m.conversationId}, ${m.direction}, 'mailgun', ${m.messageIdHeader}, 'email',
              ${pgSafe(m.body)}, ${JSON.stringify(pgSafe(m.content))}::jsonb, ${m.sentAt.toISOString()})
      on conflict (tenant_id, provider, provider_message_id) do nothing
      returning id, received_at
    ), em as (
      insert into email_messages (message_id, tenant_id, conversation_id, customer_id, message_id_header, parent_id,
                                  in_reply_to, "references", subject, normalized_subject, direction, sent_at)
      select msg.id, ${m.tenantId}, ${m.conversationId}, ${m.customerId}, ${m.messageIdHeader}, ${m.parentId},
             ${sql.param(m.inReplyTo)}::text[], ${sql.param(m.references)}::text[], ${pgSafe(m.subject)},
             ${pgSafe(m.normalizedSubject)}, ${m.direction}, ${m.sentAt.toISOString()}
        from msg
    )
    select id, received_at from msg`);
  const row = res.rows[0];
  return row ? { id: row.id, receivedAt: new Date(row.received_at) } : null;
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

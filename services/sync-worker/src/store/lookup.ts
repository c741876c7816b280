import { type Executor, isUuid } from '@switchboard/db';
import { type SQL, sql } from 'drizzle-orm';

/**
 * The read API's queries. Every one takes the tenant and filters by it: a row of another tenant
 * is never found, exactly as if it did not exist.
 */

export type ConversationRow = {
  id: string;
  customer_id: string;
  channel_id: string;
  provider: string;
  status: string;
  agent_id: string | null;
  genesys_conversation_id: string | null;
  opened_at: Date;
  closed_at: Date | null;
  last_activity_at: Date;
  version: number;
  customer_name: string | null;
  phone_e164: string | null;
  whatsapp_id: string | null;
  whatsapp_user_id: string | null;
  whatsapp_username: string | null;
  email: string | null;
};

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export const conversationView = (r: ConversationRow) => ({
  id: r.id,
  provider: r.provider,
  channelId: r.channel_id,
  status: r.status,
  agentId: r.agent_id,
  genesysConversationId: r.genesys_conversation_id,
  openedAt: iso(r.opened_at),
  closedAt: iso(r.closed_at),
  lastActivityAt: iso(r.last_activity_at),
  version: r.version,
  customer: {
    id: r.customer_id,
    name: r.customer_name,
    phoneE164: r.phone_e164,
    whatsappId: r.whatsapp_id,
    whatsappUserId: r.whatsapp_user_id,
    whatsappUsername: r.whatsapp_username,
    email: r.email,
  },
});
export type ConversationView = ReturnType<typeof conversationView>;

async function findConversation(db: Executor, tenantId: string, where: SQL): Promise<ConversationView | null> {
  const res = await db.execute<ConversationRow>(sql`
    select c.id, c.customer_id, c.channel_id, c.provider, c.status, c.agent_id, c.genesys_conversation_id,
           c.opened_at, c.closed_at, c.last_activity_at, c.version,
           cu.name as customer_name, cu.phone_e164, cu.whatsapp_id, cu.whatsapp_user_id, cu.whatsapp_username, cu.email
      from conversations c join customers cu on cu.id = c.customer_id and cu.tenant_id = c.tenant_id
     where c.tenant_id = ${tenantId} and ${where}
     order by (c.status <> 'closed') desc, c.last_activity_at desc
     limit 1`);
  const row = res.rows[0];
  return row ? conversationView(row) : null;
}

export const conversationById = (db: Executor, tenantId: string, id: string) =>
  findConversation(db, tenantId, sql`c.id = ${id}`);

/** The customer's live WhatsApp conversation, else their latest one. */
export const conversationByWhatsAppId = (db: Executor, tenantId: string, waId: string) =>
  findConversation(db, tenantId, sql`c.provider = 'whatsapp' and cu.whatsapp_id = ${waId}`);

export const conversationByGenesysId = (db: Executor, tenantId: string, genesysId: string) =>
  findConversation(db, tenantId, sql`c.genesys_conversation_id = ${genesysId}`);

type MessageRow = {
  id: string;
  direction: string;
  provider: string;
  provider_message_id: string;
  type: string;
  body: string | null;
  content: Record<string, unknown>;
  provider_sent_at: Date | null;
  received_at: Date;
  received_key: string;
  delivery_status: string | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  read_at: Date | null;
  failed_at: Date | null;
  errors: unknown;
};

const messageView = (m: MessageRow) => ({
  id: m.id,
  direction: m.direction,
  provider: m.provider,
  providerMessageId: m.provider_message_id,
  type: m.type,
  text: m.body,
  content: m.content,
  providerSentAt: iso(m.provider_sent_at),
  receivedAt: iso(m.received_at),
  deliveryStatus: m.delivery_status,
  sentAt: iso(m.sent_at),
  deliveredAt: iso(m.delivered_at),
  readAt: iso(m.read_at),
  failedAt: iso(m.failed_at),
  errors: m.errors ?? null,
});

/** One message with its delivery status and the conversation it belongs to, or null. */
export async function messageById(db: Executor, tenantId: string, id: string) {
  const res = await db.execute<MessageRow & { conversation_id: string }>(sql`
    select m.id, m.conversation_id, m.direction, m.provider, m.provider_message_id, m.type, m.body, m.content, m.provider_sent_at,
           m.received_at, m.received_at::text as received_key, m.delivery_status, m.sent_at, m.delivered_at, m.read_at, m.failed_at, m.errors
      from messages m where m.tenant_id = ${tenantId} and m.id = ${id}`);
  const m = res.rows[0];
  return m ? { ...messageView(m), conversationId: m.conversation_id } : null;
}

/**
 * Position in a conversation's history: messages are ordered by (received_at, id). `at` is
 * Postgres' own text of the timestamp, microseconds included (a JS Date would drop them and skip
 * messages stored in the same millisecond).
 */
export interface MessageCursor {
  at: string;
  id: string;
}
export const encodeCursor = (c: MessageCursor) => Buffer.from(`${c.at}|${c.id}`).toString('base64url');
export function decodeCursor(s: string): MessageCursor | null {
  const [at, id] = Buffer.from(s, 'base64url').toString('utf8').split('|');
  if (!at || !id || !isPgTimestamp(at) || !isUuid(id)) return null;
  return { at, id };
}
const PG_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?([+-])(\d{2})(?::(\d{2}))?$/;

/**
 * Whether `at` is the text Postgres writes for a timestamptz, with every field in range: a cursor
 * is client input, and one Postgres cannot cast (month 13, a 10-digit year) must be a 400, not a
 * failed query.
 */
function isPgTimestamp(at: string): boolean {
  const m = PG_TIMESTAMP.exec(at);
  if (!m) return false;
  const [year, month, day, hour, minute, second, , offsetHours, offsetMinutes] = m.slice(1).map(Number) as number[];
  const date = new Date(Date.UTC(year as number, (month as number) - 1, day));
  return (
    (year as number) >= 1 &&
    date.getUTCMonth() === (month as number) - 1 &&
    date.getUTCDate() === day &&
    (hour as number) < 24 &&
    (minute as number) < 60 &&
    (second as number) < 60 &&
    (offsetHours as number) < 16 &&
    (Number.isNaN(offsetMinutes) || (offsetMinutes as number) < 60)
  );
}

/**
 * A page of a conversation's messages, newest first, after `cursor` (exclusive). Keyset
 * pagination: a message stored while a client pages does not shift the pages.
 */
export async function messagePage(
  db: Executor,
  tenantId: string,
  conversationId: string,
  opts: { limit: number; cursor: MessageCursor | null },
) {
  const after = opts.cursor
    ? sql`and (m.received_at, m.id) < (${opts.cursor.at}::timestamptz, ${opts.cursor.id}::uuid)`
    : sql``;
  const res = await db.execute<MessageRow>(sql`
    select m.id, m.direction, m.provider, m.provider_message_id, m.type, m.body, m.content, m.provider_sent_at,
           m.received_at, m.received_at::text as received_key, m.delivery_status, m.sent_at, m.delivered_at, m.read_at, m.failed_at, m.errors
      from messages m
     where m.tenant_id = ${tenantId} and m.conversation_id = ${conversationId} ${after}
     order by m.received_at desc, m.id desc
     limit ${opts.limit + 1}`);
  const rows = res.rows.slice(0, opts.limit);
  const last = rows[rows.length - 1];
  return {
    messages: rows.map(messageView),
    nextCursor: res.rows.length > opts.limit && last ? encodeCursor({ at: last.received_key, id: last.id }) : null,
  };
}

type CustomerRow = {
  id: string;
  name: string | null;
  phone_e164: string | null;
  whatsapp_id: string | null;
  whatsapp_user_id: string | null;
  whatsapp_parent_user_id: string | null;
  whatsapp_username: string | null;
  email: string | null;
  created_at: Date;
  updated_at: Date;
};
const CUSTOMER_COLUMNS = sql.raw(
  'id, name, phone_e164, whatsapp_id, whatsapp_user_id, whatsapp_parent_user_id, whatsapp_username, email, created_at, updated_at',
);
const customerView = (r: CustomerRow) => ({
  id: r.id,
  name: r.name,
  phoneE164: r.phone_e164,
  whatsappId: r.whatsapp_id,
  whatsappUserId: r.whatsapp_user_id,
  whatsappParentUserId: r.whatsapp_parent_user_id,
  whatsappUsername: r.whatsapp_username,
  email: r.email,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

/** A customer with their conversations (newest first) and message counts. */
export async function customerProfile(db: Executor, tenantId: string, id: string) {
  const res = await db.execute<CustomerRow>(sql`
    select ${CUSTOMER_COLUMNS} from customers where tenant_id = ${tenantId} and id = ${id}`);
  const row = res.rows[0];
  if (!row) return null;
  const conversations = await db.execute<{
    id: string;
    provider: string;
    status: string;
    genesys_conversation_id: string | null;
    opened_at: Date;
    last_activity_at: Date;
    messages: string;
  }>(sql`
    select c.id, c.provider, c.status, c.genesys_conversation_id, c.opened_at, c.last_activity_at,
           (select count(*) from messages m where m.tenant_id = c.tenant_id and m.conversation_id = c.id) as messages
      from conversations c
     where c.tenant_id = ${tenantId} and c.customer_id = ${id}
     order by c.last_activity_at desc
     limit 50`);
  return {
    ...customerView(row),
    conversations: conversations.rows.map((c) => ({
      id: c.id,
      provider: c.provider,
      status: c.status,
      genesysConversationId: c.genesys_conversation_id,
      openedAt: iso(c.opened_at),
      lastActivityAt: iso(c.last_activity_at),
      messages: Number(c.messages),
    })),
  };
}

export type CustomerQuery = { phone: string } | { name: string } | { userId: string } | { username: string };

/** The condition of a customer search: one field, exactly. */
function customerWhere(tenantId: string, q: CustomerQuery): SQL {
  if ('phone' in q) return sql`phone_e164 = ${q.phone}`;
  if ('username' in q) return sql`whatsapp_username = ${q.username}`;
  // A user id the customer has now or had before (a message under an old id still leads to them).
  if ('userId' in q)
    return sql`id in (select customer_id from customer_whatsapp_user_ids
                        where tenant_id = ${tenantId} and user_id = ${q.userId})`;
  return sql`name ilike ${`%${q.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`;
}

/**
 * Customers by exact E.164 phone, WhatsApp user id or username, or by name (case-insensitive
 * substring), at most `limit`. A customer merged into another is never found: the other one is.
 */
export async function searchCustomers(db: Executor, tenantId: string, q: CustomerQuery, limit: number) {
  const res = await db.execute<CustomerRow>(sql`
    select ${CUSTOMER_COLUMNS}
      from customers where tenant_id = ${tenantId} and merged_into is null and ${customerWhere(tenantId, q)}
     order by name nulls last, id
     limit ${limit}`);
  return res.rows.map(customerView);
}

import type { Executor } from '@switchboard/db';
import { type SQL, sql } from 'drizzle-orm';
import { type ConversationRow, conversationView, encodeCursor, type MessageCursor } from './lookup.ts';

/** What `GET /conversations` filters by; every field optional, all of them combined with `and`. */
export interface ConversationFilter {
  status?: 'open' | 'active' | 'closed';
  /** A provider (`whatsapp`, `mailgun`, …) or a channel id. */
  channel?: { provider: string } | { channelId: string };
  agentId?: string;
  /** Substring (case-insensitive) of the customer's name, phone or email, or of a ticket's or email's subject. */
  text?: string;
  /** Only conversations with activity at or after this time. */
  updatedSince?: Date;
}

const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The conversations a text search reaches, tenant-wide: the customer's name, phone or email
 * (one trigram index over the three, `customers_search_trgm_idx`), a ticket's subject or an
 * email's subject (their trigram indexes). Materialized first, then sorted: reading the list's
 * index backwards and testing each row against the search walked the whole tenant for a rare term
 * (644 ms against 9 ms on the benchmark's store). A term most of the tenant matches costs its
 * matches (about 0.5 s for 10,000 of 100,000 under load). The searches run in
 * `switchboard_search_conversations` (migration 0023), held to the transaction's tenant: under
 * Row-Level Security, `ilike` (not leakproof) could not use the trigram indexes.
 */
function textHits(text: string): SQL {
  return sql`with hits as materialized (select switchboard_search_conversations(${likePattern(text)}) as id)`;
}

function filters(tenantId: string, f: ConversationFilter): SQL[] {
  const where: SQL[] = [sql`c.tenant_id = ${tenantId}`];
  if (f.status) where.push(sql`c.status = ${f.status}`);
  if (f.channel && 'provider' in f.channel) where.push(sql`c.provider = ${f.channel.provider}`);
  if (f.channel && 'channelId' in f.channel) where.push(sql`c.channel_id = ${f.channel.channelId}`);
  if (f.agentId) where.push(sql`c.agent_id = ${f.agentId}`);
  if (f.updatedSince) where.push(sql`c.last_activity_at >= ${f.updatedSince.toISOString()}`);
  if (f.text) where.push(sql`c.id in (select id from hits)`);
  return where;
}

/**
 * A page of the tenant's conversations, latest activity first, after `cursor` (exclusive): a
 * keyset on (last_activity_at, id), read backwards along `conversations_tenant_*_activity_idx`
 * (status and agent filters have an index of their own; the others filter that range). A
 * conversation whose activity moves while a client pages shows up again on an earlier page, never
 * twice on later ones.
 */
export async function conversationPage(
  db: Executor,
  tenantId: string,
  f: ConversationFilter,
  opts: { limit: number; cursor: MessageCursor | null },
) {
  const where = filters(tenantId, f);
  if (opts.cursor)
    where.push(sql`(c.last_activity_at, c.id) < (${opts.cursor.at}::timestamptz, ${opts.cursor.id}::uuid)`);
  const res = await db.execute<ConversationRow & { activity_key: string }>(sql`
    ${f.text ? textHits(f.text) : sql``}
    select c.id, c.customer_id, c.channel_id, c.provider, c.status, c.agent_id, c.genesys_conversation_id,
           c.opened_at, c.closed_at, c.last_activity_at, c.last_activity_at::text as activity_key, c.version,
           cu.name as customer_name, cu.phone_e164, cu.whatsapp_id, cu.email
      from conversations c join customers cu on cu.id = c.customer_id and cu.tenant_id = c.tenant_id
     where ${sql.join(where, sql` and `)}
     order by c.last_activity_at desc, c.id desc
     limit ${opts.limit + 1}`);
  const rows = res.rows.slice(0, opts.limit);
  const last = rows[rows.length - 1];
  return {
    conversations: rows.map(conversationView),
    nextCursor: res.rows.length > opts.limit && last ? encodeCursor({ at: last.activity_key, id: last.id }) : null,
  };
}

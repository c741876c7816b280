import type { RetentionPart } from '@switchboard/domain';
import type pg from 'pg';

/**
 * What each retention part removes, as SQL over one batch of a tenant's closed conversations
 * ($1 the tenant, $2 the conversation ids, locked by the caller). Every statement returns what it
 * removed or changed, so the archive holds exactly what left the database, in the statement's own
 * transaction. Statements run in list order: children before their parents, so no foreign key is
 * ever left dangling; the archive is written parents first (see archiveOrder).
 */
export interface Removal {
  table: string;
  /** `row`: a deleted row (restore inserts it); `set`: columns cleared or unlinked (restore writes them back). */
  op: 'row' | 'set';
  sql: string;
}

const msgIds = 'select id from messages where tenant_id = $1 and conversation_id = any($2)';
const ticketIds = 'select id from tickets where tenant_id = $1 and conversation_id = any($2)';

const del = (table: string, where: string): Removal => ({
  table,
  op: 'row',
  sql: `delete from ${table} x where ${where} returning to_jsonb(x) as row`,
});

/** The removals that take a batch's messages with everything keyed on them. */
const messageRemovals: Removal[] = [
  // Status reports are keyed by the provider's id, the message's own or an alias's.
  del(
    'message_status_reports',
    `x.tenant_id = $1 and (x.provider, x.provider_message_id) in (
       select provider, provider_message_id from messages where tenant_id = $1 and conversation_id = any($2)
       union all select provider, provider_message_id from message_aliases where message_id in (${msgIds}))`,
  ),
  del('email_events', `x.tenant_id = $1 and x.message_id in (${msgIds})`),
  // A message of another conversation threaded under one of these loses its parent, not its row.
  {
    table: 'email_messages',
    op: 'set',
    sql: `with old as (select message_id, parent_id from email_messages
                        where tenant_id = $1 and parent_id in (${msgIds}) and conversation_id <> all($2) for update)
          update email_messages e set parent_id = null from old where e.message_id = old.message_id
          returning jsonb_build_object('message_id', old.message_id) as key,
                    jsonb_build_object('parent_id', old.parent_id) as row`,
  },
  del('email_messages', `x.tenant_id = $1 and x.conversation_id = any($2)`),
  del('message_media', `x.tenant_id = $1 and x.message_id in (${msgIds})`),
  del('message_aliases', `x.tenant_id = $1 and x.message_id in (${msgIds})`),
  del('messages', `x.tenant_id = $1 and x.conversation_id = any($2)`),
];

const statusHistoryOf = (activeToo: boolean) =>
  del(
    'status_history',
    `x.tenant_id = $1 and ${activeToo ? '' : 'not x.is_active and '}
     ((x.entity_type = 'conversation' and x.entity_id = any($2))
      or (x.entity_type = 'ticket' and x.entity_id in (${ticketIds})))`,
  );

const leadRemovals: Removal[] = [
  del('lead_transitions', `x.tenant_id = $1 and x.conversation_id = any($2)`),
  del('lead_journeys', `x.tenant_id = $1 and x.conversation_id = any($2)`),
];

/** The one list of what each part removes; a new table that hangs on a conversation gets a line here. */
export const RETENTION_REMOVALS: Record<RetentionPart, Removal[]> = {
  mediaDays: [del('message_media', `x.tenant_id = $1 and x.message_id in (${msgIds})`)],
  emailBodyDays: [
    {
      table: 'messages',
      op: 'set',
      sql: `with old as (select id, body, content from messages
                          where tenant_id = $1 and conversation_id = any($2) and provider = 'mailgun'
                            and (body is not null or content <> '{}'::jsonb) for update)
            update messages m set body = null, content = '{}'::jsonb from old where m.id = old.id
            returning jsonb_build_object('id', old.id) as key,
                      jsonb_build_object('body', old.body, 'content', old.content) as row`,
    },
  ],
  statusHistoryDays: [statusHistoryOf(false)],
  leadDays: leadRemovals,
  messageDays: messageRemovals,
  conversationDays: [
    ...leadRemovals,
    statusHistoryOf(true),
    del('tickets', `x.tenant_id = $1 and x.conversation_id = any($2)`),
    ...messageRemovals,
    // The services' role cannot touch this CLI table: migration 0020's function deletes the
    // records of these conversations of the transaction's tenant, as the owner, and returns them.
    {
      table: 'legacy_imports',
      op: 'row',
      sql: 'select r as row from switchboard_take_legacy_imports($2::uuid[]) r where $1::uuid is not null',
    },
    // The conversation's analytics rollup and its WhatsApp calls go with it.
    del('conversation_metrics', `x.tenant_id = $1 and x.conversation_id = any($2)`),
    del('conversation_calls', `x.tenant_id = $1 and x.conversation_id = any($2)`),
    del('conversations', `x.tenant_id = $1 and x.id = any($2)`),
  ],
};

/**
 * Whether a closed conversation still has something a part would remove: a conversation whose
 * part is done is not picked again for it.
 */
export const RETENTION_PENDING: Record<RetentionPart, string> = {
  mediaDays: `exists (select 1 from messages m join message_media mm on mm.message_id = m.id where m.conversation_id = c.id)`,
  emailBodyDays: `c.provider = 'mailgun' and exists (select 1 from messages m where m.conversation_id = c.id
                    and (m.body is not null or m.content <> '{}'::jsonb))`,
  statusHistoryDays: `(exists (select 1 from status_history h where h.entity_type = 'conversation' and h.entity_id = c.id and not h.is_active)
                       or exists (select 1 from tickets t join status_history h on h.entity_type = 'ticket' and h.entity_id = t.id
                                   where t.conversation_id = c.id and not h.is_active))`,
  leadDays: `exists (select 1 from lead_journeys j where j.conversation_id = c.id)
             or exists (select 1 from lead_transitions l where l.conversation_id = c.id)`,
  messageDays: `exists (select 1 from messages m where m.conversation_id = c.id)`,
  conversationDays: 'true',
};

/**
 * Rows the archived ones refer to, archived beside them (not removed) so that an archive restores
 * into a database that lacks them: the tenant, the channels, the customers and, for a part that
 * leaves the conversation in place, the conversation (and the messages whose media or body it takes).
 */
export function contextQueries(part: RetentionPart): Array<{ table: string; sql: string }> {
  const q = [
    { table: 'tenants', sql: 'select to_jsonb(x) as row from tenants x where x.id = $1 and $2::uuid[] is not null' },
    {
      table: 'channels',
      sql: 'select to_jsonb(x) as row from channels x where x.tenant_id = $1 and x.id in (select channel_id from conversations where id = any($2))',
    },
    {
      table: 'customers',
      sql: 'select to_jsonb(x) as row from customers x where x.tenant_id = $1 and x.id in (select customer_id from conversations where id = any($2))',
    },
  ];
  if (part !== 'conversationDays')
    q.push({
      table: 'conversations',
      sql: 'select to_jsonb(x) as row from conversations x where x.tenant_id = $1 and x.id = any($2)',
    });
  // Media metadata and email bodies belong to messages that stay.
  if (part === 'mediaDays' || part === 'emailBodyDays')
    q.push({
      table: 'messages',
      sql: `select to_jsonb(x) as row from messages x where x.tenant_id = $1 and x.conversation_id = any($2)
              and ${part === 'mediaDays' ? 'exists (select 1 from message_media mm where mm.message_id = x.id)' : "x.provider = 'mailgun'"}`,
    });
  return q;
}

/** A table's place when restoring: parents before children, so every foreign key finds its row. */
export const RESTORE_ORDER = [
  'tenants',
  'channels',
  'customers',
  'conversations',
  'conversation_calls',
  'tickets',
  'messages',
  // After the messages: their insert trigger has made the row by then (what the archive holds
  // for it is then already there, and skipped).
  'conversation_metrics',
  'message_aliases',
  'message_media',
  'email_messages',
  'email_events',
  'message_status_reports',
  'lead_journeys',
  'lead_transitions',
  'status_history',
  'legacy_imports',
] as const;

export interface RemovedRow {
  table: string;
  op: 'row' | 'set' | 'context';
  key?: Record<string, unknown>;
  row: Record<string, unknown>;
}

/** Runs one part's removals over a locked batch; returns what left, in removal order. */
export async function removePart(
  client: pg.PoolClient,
  part: RetentionPart,
  tenantId: string,
  conversationIds: string[],
): Promise<RemovedRow[]> {
  const out: RemovedRow[] = [];
  for (const q of contextQueries(part)) {
    const res = await client.query<{ row: Record<string, unknown> }>(q.sql, [tenantId, conversationIds]);
    for (const r of res.rows) out.push({ table: q.table, op: 'context', row: r.row });
  }
  for (const r of RETENTION_REMOVALS[part]) {
    const res = await client.query<{ row: Record<string, unknown>; key?: Record<string, unknown> }>(r.sql, [
      tenantId,
      conversationIds,
    ]);
    for (const x of res.rows) out.push({ table: r.table, op: r.op, row: x.row, ...(x.key ? { key: x.key } : {}) });
  }
  return out;
}

/**
 * Up to `limit` of the tenant's closed conversations that closed before `cutoff` and still hold
 * something of `part`, oldest first, locked (others' batches skip them: two runs never archive
 * the same rows twice at once). Returns their ids.
 */
export async function lockDueConversations(
  client: pg.PoolClient,
  part: RetentionPart,
  tenantId: string,
  cutoff: Date,
  limit: number,
): Promise<string[]> {
  const res = await client.query<{ id: string }>(
    `select c.id from conversations c
      where c.tenant_id = $1 and c.status = 'closed' and c.closed_at < $2 and (${RETENTION_PENDING[part]})
      order by c.closed_at, c.id limit $3 for update of c skip locked`,
    [tenantId, cutoff, limit],
  );
  return res.rows.map((r) => r.id);
}

/** The close time of the oldest conversation still holding something of `part` past its cutoff (the lag). */
export async function oldestDue(
  client: pg.Pool | pg.PoolClient,
  part: RetentionPart,
  tenantId: string,
  cutoff: Date,
): Promise<Date | null> {
  const res = await client.query<{ at: Date | null }>(
    `select min(c.closed_at) as at from conversations c
      where c.tenant_id = $1 and c.status = 'closed' and c.closed_at < $2 and (${RETENTION_PENDING[part]})`,
    [tenantId, cutoff],
  );
  return res.rows[0]?.at ?? null;
}

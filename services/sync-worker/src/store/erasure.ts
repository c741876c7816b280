import type pg from 'pg';

/**
 * The one list of where a customer's personal data lives outside the customer row, and how each
 * place is erased. Every statement takes $1 the tenant, $2 the customer, $3 the customer's
 * identifiers as they were (phone, WhatsApp id, email, name: for rows tied to the customer only
 * by what they contain). Rows stay (counts, statuses, timings, lead scores are kept as anonymous
 * aggregates); what identifies or was said by the customer goes. A new table or column holding
 * personal data gets a line here; the erasure test scans every text and jsonb column of every
 * table, so a place missing from this list fails it.
 */
export interface ErasurePlace {
  table: string;
  sql: string;
}

const convs = 'select id from conversations where tenant_id = $1 and customer_id = $2';
const msgs = `select id from messages where tenant_id = $1 and conversation_id in (${convs})`;
const providerIds = `select provider, provider_message_id from messages where tenant_id = $1 and conversation_id in (${convs})
  union all select provider, provider_message_id from message_aliases where message_id in (${msgs})`;
const mentions = (col: string) => `exists (select 1 from unnest($3::text[]) i where strpos(${col}::text, i) > 0)`;

export const ERASURE_PLACES: ErasurePlace[] = [
  {
    table: 'messages',
    sql: `update messages set body = null, content = '{}'::jsonb, errors = null
           where tenant_id = $1 and conversation_id in (${convs})
             and (body is not null or content <> '{}'::jsonb or errors is not null)`,
  },
  {
    table: 'message_media',
    sql: `update message_media set caption = null, filename = null, sha256 = null, provider_media_id = 'erased'
           where tenant_id = $1 and message_id in (${msgs}) and provider_media_id <> 'erased'`,
  },
  {
    table: 'message_status_reports',
    sql: `update message_status_reports set conversation = null, errors = null
           where tenant_id = $1 and (conversation is not null or errors is not null)
             and (provider, provider_message_id) in (${providerIds})`,
  },
  {
    // Held statuses: for the customer's messages, or naming the customer in their errors.
    table: 'pending_statuses',
    sql: `delete from pending_statuses where tenant_id = $1
            and ((provider, provider_message_id) in (${providerIds}) or (errors is not null and ${mentions('errors')}))`,
  },
  {
    table: 'email_messages',
    sql: `update email_messages set subject = null, normalized_subject = ''
           where tenant_id = $1 and customer_id = $2 and (subject is not null or normalized_subject <> '')`,
  },
  {
    table: 'email_events',
    sql: `update email_events set detail = '{}'::jsonb
           where tenant_id = $1 and message_id in (${msgs}) and detail <> '{}'::jsonb`,
  },
  {
    table: 'tickets',
    sql: `update tickets set subject = null where tenant_id = $1 and conversation_id in (${convs}) and subject is not null`,
  },
  {
    table: 'status_history',
    sql: `update status_history set reason = null, notes = null
           where tenant_id = $1 and (reason is not null or notes is not null)
             and ((entity_type = 'conversation' and entity_id in (${convs}))
               or (entity_type = 'ticket' and entity_id in (select id from tickets where conversation_id in (${convs}))))`,
  },
  {
    table: 'lead_transitions',
    sql: `update lead_transitions set warnings = '[]'::jsonb
           where tenant_id = $1 and conversation_id in (${convs}) and warnings <> '[]'::jsonb`,
  },
  {
    // Every WhatsApp user id the person was known by (the current one is on the customer row):
    // identifiers, so they go; a later message under one of them starts a new customer.
    table: 'customer_whatsapp_user_ids',
    sql: 'delete from customer_whatsapp_user_ids where tenant_id = $1 and customer_id = $2',
  },
  {
    // The services' role cannot touch this CLI table: migration 0020's function scrubs the rows of
    // this customer of the transaction's tenant, as the owner (one result row per changed row).
    table: 'legacy_imports',
    sql: 'select 1 from generate_series(1, switchboard_erase_legacy_imports($2))',
  },
];

/**
 * The customer row keeps its id (what the anonymous rows refer to) and loses every text and jsonb
 * column: read from the catalog, so a column added later (a username, a business-scoped id) is
 * erased without a change here. Nullable columns become null, required jsonb `{}`, required text ''.
 */
export async function eraseCustomerRow(client: pg.PoolClient, tenantId: string, customerId: string): Promise<void> {
  const cols = await client.query<{ name: string; nullable: boolean; type: string }>(
    `select column_name as name, is_nullable = 'YES' as nullable, data_type as type
       from information_schema.columns
      where table_schema = current_schema() and table_name = 'customers'
        and data_type in ('text', 'character varying', 'jsonb', 'json', 'ARRAY')
        and column_name not in ('id', 'tenant_id')
      order by ordinal_position`,
  );
  const set = cols.rows.map((c) => {
    const to = c.nullable
      ? 'null'
      : c.type === 'jsonb' || c.type === 'json'
        ? `'{}'`
        : c.type === 'ARRAY'
          ? `'{}'`
          : `''`;
    return `"${c.name.replaceAll('"', '""')}" = ${to}`;
  });
  await client.query(
    `update customers set ${[...set, 'updated_at = now()'].join(', ')} where tenant_id = $1 and id = $2`,
    [tenantId, customerId],
  );
}

export interface CustomerFootprint {
  /** What identifies the customer: phone, WhatsApp id, email, name, and any other text column of its row. */
  identifiers: string[];
  /** What the customer wrote or was written: message texts, captions, file names, subjects. */
  texts: string[];
  conversationIds: string[];
  /** Ids of every aggregate of theirs an outbox event may be about (customer, conversations, messages, tickets). */
  aggregateIds: string[];
  genesysConversationIds: string[];
}

/** Reads what the erasure must find again elsewhere (the outbox, caches) before it erases it. */
export async function customerFootprint(
  client: pg.PoolClient,
  tenantId: string,
  customerId: string,
): Promise<CustomerFootprint> {
  const q = async (sql: string) =>
    (await client.query<{ v: string }>(sql, [tenantId, customerId])).rows.map((r) => r.v);
  const identifiers = await q(`select v from customers c, lateral (
      select value #>> '{}' as v from jsonb_each(to_jsonb(c) - 'id' - 'tenant_id')
       where jsonb_typeof(value) = 'string') x
     where c.tenant_id = $1 and c.id = $2 and v is not null and length(v) >= 3 and v !~ '^\\d{4}-\\d{2}-\\d{2}T'`);
  const texts = await q(`select v from (
      select body as v from messages where tenant_id = $1 and conversation_id in (${convs})
      union select caption from message_media where tenant_id = $1 and message_id in (${msgs})
      union select filename from message_media where tenant_id = $1 and message_id in (${msgs})
      union select subject from email_messages where tenant_id = $1 and customer_id = $2
      union select subject from tickets where tenant_id = $1 and conversation_id in (${convs})) t
     where v is not null and length(v) > 0`);
  const conversationIds = await q(`select id::text as v from conversations where tenant_id = $1 and customer_id = $2`);
  const genesysConversationIds = await q(`select genesys_conversation_id as v from conversations
     where tenant_id = $1 and customer_id = $2 and genesys_conversation_id is not null`);
  const aggregateIds = [
    customerId,
    ...conversationIds,
    ...(await q(`select id::text as v from messages where tenant_id = $1 and conversation_id in (${convs})
                 union all select id::text from tickets where tenant_id = $1 and conversation_id in (${convs})`)),
  ];
  return { identifiers, texts, conversationIds, aggregateIds, genesysConversationIds };
}

/** Runs every place of the list; returns how many rows each changed. */
export async function erasePlaces(
  client: pg.PoolClient,
  tenantId: string,
  customerId: string,
  identifiers: string[],
): Promise<Record<string, number>> {
  const changed: Record<string, number> = {};
  for (const p of ERASURE_PLACES) {
    // Every statement gets the three parameters, whether or not it reads them all.
    const res = await client.query(`with _params as (select $1::uuid, $2::uuid, $3::text[]) ${p.sql}`, [
      tenantId,
      customerId,
      identifiers,
    ]);
    changed[p.table] = (changed[p.table] ?? 0) + (res.rowCount ?? 0);
  }
  return changed;
}

/** Outbox rows about the customer: of its aggregates, or naming one of its identifiers. Locked. */
export async function lockCustomerOutbox(
  client: pg.PoolClient,
  tenantId: string,
  aggregateIds: string[],
  identifiers: string[],
): Promise<Array<{ id: number; envelope: unknown }>> {
  const res = await client.query<{ id: string; envelope: unknown }>(
    `select id, envelope from outbox
      where tenant_id = $1 and (aggregate_id = any($2::text[]) or ${mentions('envelope')})
      order by id for update`,
    [tenantId, aggregateIds, identifiers],
  );
  return res.rows.map((r) => ({ id: Number(r.id), envelope: r.envelope }));
}

export async function rewriteOutboxEnvelope(client: pg.PoolClient, id: number, envelope: unknown): Promise<void> {
  await client.query('update outbox set envelope = $2::jsonb where id = $1', [id, JSON.stringify(envelope)]);
}

/** Locks the customer's row and its conversations (waiting out a retention batch that holds them); null when not the tenant's. */
export async function lockCustomer(client: pg.PoolClient, tenantId: string, customerId: string): Promise<boolean> {
  const res = await client.query('select id from customers where tenant_id = $1 and id = $2 for update', [
    tenantId,
    customerId,
  ]);
  if (res.rowCount === 0) return false;
  await client.query(`select id from conversations where tenant_id = $1 and customer_id = $2 for update`, [
    tenantId,
    customerId,
  ]);
  return true;
}

export interface ErasureRecord {
  eventId: string;
  erasedAt: Date;
  cachePurgedAt: Date | null;
}

export async function readErasure(
  db: Pick<pg.Pool, 'query'> | pg.PoolClient,
  tenantId: string,
  customerId: string,
): Promise<ErasureRecord | null> {
  const res = await db.query<{ event_id: string; erased_at: Date; cache_purged_at: Date | null }>(
    'select event_id, erased_at, cache_purged_at from customer_erasures where tenant_id = $1 and customer_id = $2',
    [tenantId, customerId],
  );
  const r = res.rows[0];
  return r ? { eventId: r.event_id, erasedAt: r.erased_at, cachePurgedAt: r.cache_purged_at } : null;
}

export async function recordErasure(
  client: pg.PoolClient,
  tenantId: string,
  customerId: string,
  eventId: string,
  at: Date,
): Promise<void> {
  await client.query(
    'insert into customer_erasures (tenant_id, customer_id, event_id, erased_at) values ($1, $2, $3, $4)',
    [tenantId, customerId, eventId, at],
  );
}

export async function markCachePurged(pool: Pick<pg.Pool, 'query'>, tenantId: string, customerId: string, at: Date) {
  await pool.query('update customer_erasures set cache_purged_at = $3 where tenant_id = $1 and customer_id = $2', [
    tenantId,
    customerId,
    at,
  ]);
}

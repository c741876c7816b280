import type pg from 'pg';

/**
 * A large conversation store written straight into Postgres with set-based SQL (generate_series),
 * not through the pipeline: the read API's list, context and status routes, the analytics report
 * and the inactivity sweep are measured against it, and its EXPLAINs chose migration
 * `conversation_read_indexes`. One big tenant (the dev tenant: `conversations` × `messagesEach`)
 * and `otherTenants` beside it, so every plan has to find one tenant's rows among others'.
 *
 * Shape, per tenant: conversations opened evenly over `days` up to `now`; each alternates
 * customer message and agent reply 5 minutes apart (so every reply answers the message before
 * it); one in five has a ticket with a subject; conversations quiet for more than a day are
 * closed, the rest split open/active; active and closed ones name one of 50 agents. Seeded
 * conversations carry `metadata.seeded`, so the pipeline's own (the bench's warm-up) are left alone.
 *
 * Ids are derived (md5 of tenant and number) with the RFC 4122 version and variant set: the API
 * answers 400 for anything else, as it did for 87% of plain md5 ids.
 *
 * Triggers are skipped (`session_replication_role = replica`, superuser only, as the bench runs):
 * the lookup-key and history triggers are per-write bookkeeping, not data the reads need. The
 * history rows the analytics read are written here instead, one per status a conversation took.
 */
export interface StoreShape {
  conversations: number;
  messagesEach: number;
  otherTenants: number;
  otherConversations: number;
  days: number;
  now: Date;
}

const FIRST = ['Ana', 'Ben', 'Chloe', 'David', 'Elif', 'Farah', 'Goran', 'Hana', 'Ivan', 'Julia', 'Kofi', 'Lena'];
const LAST = ['Silva', 'Novak', 'Okafor', 'Jensen', 'Moreau', 'Kowalski', 'Tanaka', 'Haddad', 'Ruiz', 'Schmidt'];
const SUBJECTS = ['Refund for order', 'Delivery delayed', 'Invoice question', 'Password reset', 'Broken screen'];

export async function seedConversationStore(pool: pg.Pool, shape: StoreShape, log: (l: string) => void) {
  const client = await pool.connect();
  try {
    await client.query(`set session_replication_role = replica`);
    const dev = await client.query<{ tenant_id: string; channel_id: string }>(
      `select tenant_id, id as channel_id from channels where provider = 'whatsapp' and account_id = '106540352242922'`,
    );
    const big = dev.rows[0];
    if (!big) throw new Error('conversation store: no dev WhatsApp channel');
    const tenants = [{ ...big, n: shape.conversations }];
    for (let t = 1; t <= shape.otherTenants; t++) {
      const r = await client.query<{ tenant_id: string; channel_id: string }>(
        `with t as (insert into tenants (slug, name) values ($1, $1) returning id)
         insert into channels (tenant_id, provider, account_id) select id, 'whatsapp', $2 from t
         returning tenant_id, id as channel_id`,
        [`bench-other-${t}`, `bench-other-${t}-${Date.now()}`],
      );
      tenants.push({ ...(r.rows[0] as { tenant_id: string; channel_id: string }), n: shape.otherConversations });
    }
    for (const [i, t] of tenants.entries()) {
      const t0 = performance.now();
      // One transaction per tenant: a running worker's inactivity sweep must not close a row
      // between its insert and its history's (it would write a second active history row).
      await client.query('begin');
      await seedTenantStore(client, t, shape, i);
      await client.query('commit');
      log(`store: tenant ${i} ${t.n} conversations in ${Math.round(performance.now() - t0)} ms`);
    }
    await client.query(`set session_replication_role = origin`);
    // The metrics trigger was skipped with the others: the migration's backfill computes the same.
    await client.query('select backfill_conversation_metrics()');
    await client.query('analyze customers, conversations, messages, tickets, status_history, conversation_metrics');
    return { tenantId: big.tenant_id, channelId: big.channel_id };
  } finally {
    client.release();
  }
}

async function seedTenantStore(
  client: pg.PoolClient,
  t: { tenant_id: string; channel_id: string; n: number },
  shape: StoreShape,
  index: number,
) {
  const now = shape.now.toISOString();
  const params = [t.tenant_id, t.channel_id, t.n, shape.messagesEach, shape.days, now];
  // Customers: numbered phones (+4477 + tenant + number), names from two short lists.
  await client.query(
    `insert into customers (id, tenant_id, phone_e164, whatsapp_id, email, name, created_at, updated_at)
     select overlay(overlay(md5($1::text || ':cu:' || g) placing '4' from 13) placing '8' from 17)::uuid, $1::uuid, '+4477' || $5::text || lpad(g::text, 7, '0'), '4477' || $5::text || lpad(g::text, 7, '0'),
            lower(f.first) || '.' || lower(l.last) || g || '@example.com', f.first || ' ' || l.last || ' ' || g,
            $4::timestamptz - make_interval(days => $3), $4::timestamptz - make_interval(days => $3)
       from generate_series(1, $2::int) g,
            lateral (select ($6::text[])[1 + g % array_length($6::text[], 1)] as first) f,
            lateral (select ($7::text[])[1 + (g / 7) % array_length($7::text[], 1)] as last) l`,
    [t.tenant_id, t.n, shape.days, now, index, FIRST, LAST],
  );
  // Conversations: opened evenly over the window; the last message is (messagesEach - 1) × 5 min later.
  await client.query(
    `insert into conversations (id, tenant_id, customer_id, channel_id, provider, status, agent_id, opened_at, closed_at, last_activity_at, version, metadata)
     select overlay(overlay(md5($1::text || ':co:' || g) placing '4' from 13) placing '8' from 17)::uuid, $1::uuid, overlay(overlay(md5($1::text || ':cu:' || g) placing '4' from 13) placing '8' from 17)::uuid, $2::uuid, 'whatsapp',
            s.status, case when s.status = 'open' then null else 'op-' || (g % 50) end,
            o.opened, case when s.status = 'closed' then o.last + interval '1 hour' end, o.last, 1, '{"seeded": true}'::jsonb
       from generate_series(1, $3::int) g,
            lateral (select $6::timestamptz - make_interval(days => $5) + make_interval(secs => g * ($5 * 86400.0 / $3)) as opened) o0,
            lateral (select o0.opened, o0.opened + make_interval(mins => ($4 - 1) * 5) as last) o,
            lateral (select case when o.last < $6::timestamptz - interval '1 day' then 'closed'
                                 when g % 2 = 0 then 'active' else 'open' end as status) s`,
    params,
  );
  await client.query(
    `insert into messages (tenant_id, conversation_id, direction, provider, provider_message_id, type, body, received_at, sent_at, delivery_status)
     select c.tenant_id, c.id, case when k % 2 = 0 then 'inbound' else 'outbound' end, 'whatsapp',
            'wamid.seed-' || c.id || '-' || k, 'text', 'message ' || k || ' of the conversation',
            c.opened_at + make_interval(mins => k * 5),
            case when k % 2 = 1 then c.opened_at + make_interval(mins => k * 5) end,
            case when k % 2 = 1 then 'read' end
       from conversations c, generate_series(0, $2::int - 1) k
      where c.tenant_id = $1::uuid and c.metadata ? 'seeded'`,
    [t.tenant_id, shape.messagesEach],
  );
  await client.query(
    `insert into tickets (tenant_id, conversation_id, external_id, status, subject, created_at, updated_at, closed_at)
     select c.tenant_id, c.id, 'HD-' || substr(c.id::text, 1, 8) || '-' || $2::text, case when c.status = 'closed' then 'closed' else 'open' end,
            ($3::text[])[1 + (abs(hashtext(c.id::text)) % array_length($3::text[], 1))] || ' #' || substr(c.id::text, 1, 6),
            c.opened_at, c.last_activity_at, c.closed_at
       from conversations c where c.tenant_id = $1::uuid and c.metadata ? 'seeded' and abs(hashtext(c.id::text)) % 5 = 0`,
    [t.tenant_id, index, SUBJECTS],
  );
  // History: opened, then active when an agent took it (its first reply), then closed.
  await client.query(
    `insert into status_history (tenant_id, entity_type, entity_id, status, previous_status, is_active, changed_by, source, version, changed_at)
     select c.tenant_id, 'conversation', c.id, h.status, h.previous, h.status = c.status, h.by, h.source, h.version, h.at
       from conversations c,
            lateral (values ('open', null, null, 'customer', 1, c.opened_at),
                            ('active', 'open', c.agent_id, 'agent', 2, c.opened_at + interval '5 minutes'),
                            ('closed', 'active', null, 'system', 3, c.closed_at)) h(status, previous, by, source, version, at)
      where c.tenant_id = $1::uuid and c.metadata ? 'seeded' and (h.status = 'open' or (h.status = 'active' and c.agent_id is not null) or (h.status = 'closed' and c.status = 'closed'))`,
    [t.tenant_id],
  );
}

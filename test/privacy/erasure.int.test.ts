import { issueApiToken, seedTenant } from '@switchboard/db';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  DEV_MAILGUN_DOMAIN,
  helpdeskEvent,
  inboundFields,
  inboundUrlencoded,
  signedHelpdesk,
  signedWhatsApp,
  testUrls,
  whatsappText,
} from '@switchboard/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

// GDPR erasure of a customer who wrote on WhatsApp and by email, with a ticket, status history, a
// lead journey and cached lookups: afterwards no text or jsonb column of any table (whatever the
// table: the scan reads the catalog), no Redis key or value and no outbox event holds their name,
// phone, email or what they wrote; `customer.erased` went out once; a second erase changes nothing.

const PHONE = '15557654321';
const NAME = 'Grace Hopperine';
const EMAIL = 'grace.hopperine@example.net';
const TEXTS = ['my parcel never came, Zebulon', 'the number on the box is 8812-KQ', 'Quote for the blue Zephyrmobile'];
const PERSONAL = [PHONE, NAME, EMAIL, ...TEXTS];

let p: Pipeline;
let acmeToken: string;
let redis: Redis;
beforeAll(async () => {
  p = await startPipeline({ env: { API_TOKEN_CACHE_TTL_MS: '0' } });
  const acme = await seedTenant(p.db, { slug: 'acme', name: 'Acme', channels: [] });
  acmeToken = (await issueApiToken(p.db, acme.tenantId, 'acme admin', { scopes: ['admin'] })).token;
  redis = new Redis(testUrls.redis, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  redis.disconnect();
  await p.stop();
});

const one = async <T>(sql: string, params: unknown[] = []) => (await p.pool.query(sql, params)).rows[0] as T;

/** Where each personal string still is: `table.column` in Postgres, `redis:<key>` in Redis. */
async function findPersonalData(): Promise<string[]> {
  const found: string[] = [];
  const columns = await p.pool.query<{ t: string; c: string }>(
    `select table_name as t, column_name as c from information_schema.columns
      where table_schema = 'public' and data_type in ('text', 'character varying', 'jsonb', 'json', 'ARRAY')
        and table_name not like '\\_\\_%' order by 1, 2`,
  );
  expect(columns.rows.length).toBeGreaterThan(40);
  for (const { t, c } of columns.rows) {
    const hit = await p.pool.query(
      `select 1 from "${t}" where exists (select 1 from unnest($1::text[]) s where strpos(lower("${c}"::text), lower(s)) > 0) limit 1`,
      [PERSONAL],
    );
    if (hit.rowCount) found.push(`${t}.${c}`);
  }
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${p.env.REDIS_KEY_PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === 'string' ? await redis.get(key) : type === 'hash' ? JSON.stringify(await redis.hgetall(key)) : '';
      const text = `${key} ${value ?? ''}`.toLowerCase();
      if (PERSONAL.some((s) => text.includes(s.toLowerCase()))) found.push(`redis:${key}`);
    }
  } while (cursor !== '0');
  return found;
}

/** Every row of every table, for "a second erase changes nothing". */
async function snapshot() {
  const tables = await p.pool.query<{ t: string }>(
    `select table_name as t from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'
       and table_name not like '\\_\\_%' order by 1`,
  );
  const out: Record<string, string[]> = {};
  for (const { t } of tables.rows)
    out[t] = (await p.pool.query<{ j: string }>(`select to_jsonb(x)::text as j from "${t}" x`)).rows
      .map((r) => r.j)
      .sort();
  return out;
}

it("erases a customer's personal data everywhere, once, and refuses another tenant", async () => {
  // WhatsApp: two messages from the customer.
  const wa = await p.post(
    '/webhooks/whatsapp',
    signedWhatsApp(
      whatsappText(
        { from: PHONE, id: 'wamid.erase-1', text: TEXTS[0] as string, name: NAME },
        { from: PHONE, id: 'wamid.erase-2', text: TEXTS[1] as string, name: NAME },
      ),
    ),
  );
  expect(wa.status).toBe(200);
  await expect
    .poll(
      () => one<{ n: number }>("select count(*)::int as n from messages where provider = 'whatsapp'").then((r) => r.n),
      { timeout: 15_000 },
    )
    .toBe(2);
  const { customer_id: customerId, id: waConversation } = await one<{ customer_id: string; id: string }>(
    "select customer_id, id from conversations where provider = 'whatsapp'",
  );
  // The customer's address is known (a CRM linked it), so their email lands on the same customer.
  await p.pool.query('update customers set email = $2 where id = $1', [customerId, EMAIL]);
  const email = await p.post(
    '/webhooks/mailgun/inbound',
    inboundUrlencoded(
      inboundFields({
        recipient: `sales@${DEV_MAILGUN_DOMAIN}`,
        sender: EMAIL,
        from: `${NAME} <${EMAIL}>`,
        subject: TEXTS[2] as string,
        'Message-Id': '<quote-1@mail.example.net>',
        'body-plain': `${TEXTS[0]}\n\n> quoted`,
        'stripped-text': TEXTS[0] as string,
        'message-headers': JSON.stringify([['Date', new Date().toUTCString()]]),
      }),
    ),
  );
  expect(email.status).toBe(200);
  await expect
    .poll(
      () =>
        one<{ n: number }>('select count(*)::int as n from lead_journeys where customer_id = $1', [customerId]).then(
          (r) => r.n,
        ),
      { timeout: 15_000 },
    )
    .toBe(1);
  // A ticket about the WhatsApp conversation, moved once (status history with a reason).
  for (const [type, data] of [
    [
      'ticket.created',
      { ticketId: 'T-erase', conversationId: waConversation, status: 'open', subject: `${NAME} parcel` },
    ],
    [
      'ticket.status_changed',
      { ticketId: 'T-erase', conversationId: waConversation, status: 'in_progress', reason: `called ${PHONE}` },
    ],
  ] as const) {
    expect((await p.postWebhooks('/webhooks/helpdesk', signedHelpdesk(helpdeskEvent(type, data)))).status).toBe(200);
    await expect
      .poll(
        () =>
          one<{ status: string } | undefined>("select status from tickets where external_id = 'T-erase'").then(
            (r) => r?.status,
          ),
        { timeout: 15_000 },
      )
      .toBe(data.status);
  }
  // Cached lookups: by id, phone, name, WhatsApp id, and the conversation's messages.
  for (const path of [
    `/customers/${customerId}`,
    `/customers?phone=%2B${PHONE}`,
    `/customers?name=${encodeURIComponent('Hopperine')}`,
    `/conversations/by-whatsapp/${PHONE}`,
    `/conversations/${waConversation}/messages`,
  ])
    expect((await p.api(path)).status).toBe(200);
  const aggregates = await one<{ conversations: number; messages: number }>(
    `select (select count(*)::int from conversations where customer_id = $1) as conversations,
            (select count(*)::int from messages where conversation_id in (select id from conversations where customer_id = $1)) as messages`,
    [customerId],
  );
  expect(aggregates).toEqual({ conversations: 2, messages: 3 });

  // The scan finds the data before: it is not a scan that cannot fail.
  const before = await findPersonalData();
  for (const place of [
    'customers.name',
    'customers.phone_e164',
    'customers.email',
    'messages.body',
    'outbox.envelope',
    'tickets.subject',
    'status_history.reason',
  ])
    expect(before).toContain(place);
  expect(before.some((k) => k.startsWith('redis:'))).toBe(true);

  // Another tenant's token: refused as if the customer did not exist, and nothing changes.
  const refused = await p.api(`/customers/${customerId}/erase`, { method: 'POST', token: acmeToken });
  expect(refused.status).toBe(404);
  expect(await findPersonalData()).toEqual(before);

  const res = await p.api(`/customers/${customerId}/erase`, { method: 'POST' });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ customerId, result: 'erased' });
  expect(await findPersonalData()).toEqual([]);

  // Anonymous aggregates stay; customer.erased went out once.
  expect(
    await one(
      `select (select count(*)::int from conversations where customer_id = $1) as conversations,
              (select count(*)::int from messages where conversation_id in (select id from conversations where customer_id = $1)) as messages`,
      [customerId],
    ),
  ).toEqual(aggregates);
  await expect.poll(() => p.events.ofKey('customer.erased').length, { timeout: 15_000 }).toBe(1);
  expect(p.events.ofKey('customer.erased')[0]?.event).toMatchObject({
    type: 'switchboard.customer.erased.v1',
    subject: customerId,
    tenantid: p.tenant.tenantId,
    data: { customerId, conversationIds: expect.arrayContaining([waConversation]) },
  });
  // The lookups answer from the erased rows.
  const profile = (await (await p.api(`/customers/${customerId}`)).json()) as Record<string, unknown>;
  expect(profile).toMatchObject({ id: customerId, name: null, email: null });

  // A second erase changes nothing and publishes nothing.
  await expect
    .poll(
      () => one<{ n: number }>('select count(*)::int as n from outbox where published_at is null').then((r) => r.n),
      { timeout: 15_000 },
    )
    .toBe(0);
  const still = await snapshot();
  const again = await p.api(`/customers/${customerId}/erase`, { method: 'POST' });
  expect(again.status).toBe(200);
  expect(await again.json()).toMatchObject({ result: 'already_erased' });
  expect(await snapshot()).toEqual(still);
  expect(
    (await one<{ n: number }>("select count(*)::int as n from outbox where routing_key = 'customer.erased'")).n,
  ).toBe(1);
});

import { issueApiToken, seedTenant } from '@switchboard/db';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { DEV_PHONE_NUMBER_ID, signedWhatsApp, whatsappStatus, whatsappText } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genesysAgentText, signedGenesys } from '../fixtures/genesys.ts';

const ACME_PHONE_NUMBER_ID = '200000000000001';
const ACME_GENESYS = 'acme-genesys-integration';
const CUSTOMER = '16315551181';
/** A customer of the dev tenant only. */
const DORA = '447911123456';

let p: Pipeline;
let acme: { tenantId: string; token: string };
type Json = Record<string, unknown>;
const get = async (path: string, token?: string) => {
  const res = await p.api(path, token ? { token } : {});
  return { status: res.status, body: (await res.json()) as Json };
};
const dataOf = (key: string) => p.events.ofKey(key).map((r) => r.event.data as Json);

/** A customer message to a tenant's WhatsApp number (dev's unless `phoneNumberId`). */
const whatsapp = (m: { id: string; text: string; from?: string; name?: string }, phoneNumberId = DEV_PHONE_NUMBER_ID) =>
  p.post(
    '/webhooks/whatsapp',
    signedWhatsApp(
      JSON.parse(
        JSON.stringify(whatsappText({ from: m.from ?? CUSTOMER, id: m.id, text: m.text, name: m.name })).replace(
          DEV_PHONE_NUMBER_ID,
          phoneNumberId,
        ),
      ),
    ),
  );

/** Waits for `ok()` outside a test (expect.poll works only inside one). */
async function until(ok: () => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for events');
    await new Promise((r) => setTimeout(r, 50));
  }
}

let devConversation: string;
let acmeConversation: string;

beforeAll(async () => {
  // National phone numbers are read as US numbers unless a search names its region.
  p = await startPipeline({ env: { DEFAULT_PHONE_REGION: 'US' } });
  const seeded = await seedTenant(p.db, {
    slug: 'acme',
    name: 'Acme',
    channels: [
      { provider: 'whatsapp', accountId: ACME_PHONE_NUMBER_ID },
      { provider: 'genesys', accountId: ACME_GENESYS },
    ],
  });
  acme = { tenantId: seeded.tenantId, token: (await issueApiToken(p.db, seeded.tenantId, 'acme portal')).token };
  // The same person writes to both tenants: two customers, two conversations, one per tenant.
  for (let i = 0; i < 5; i++) expect((await whatsapp({ id: `wamid.dev-${i}`, text: `dev ${i}` })).status).toBe(200);
  await whatsapp({ id: 'wamid.acme-0', text: 'acme 0', name: 'Kerry at Acme' }, ACME_PHONE_NUMBER_ID);
  await whatsapp({ id: 'wamid.dora-0', text: 'hello', from: DORA, name: 'Dora Devonly' });
  await until(() => dataOf('message.received').length === 7);
  const received = p.events.ofKey('message.received');
  const kerrys = (tenant: string) =>
    received.find((r) => r.event.tenantid === tenant && (r.event.data as Json).from === `+${CUSTOMER}`)?.event
      .subject as string;
  devConversation = kerrys(p.tenant.tenantId);
  acmeConversation = kerrys(acme.tenantId);
  const reply = genesysAgentText({ id: 'gm-api-1', to: CUSTOMER, text: 'hello', conversationId: 'gc-api-1' });
  expect((await p.postWebhooks('/webhooks/genesys', signedGenesys(reply))).status).toBe(200);
  await until(() => dataOf('message.sent').length === 1);
});
afterAll(async () => {
  await p.stop();
});

describe('conversation lookups', () => {
  it('finds the conversation by id, by WhatsApp user id and by Genesys conversation id', async () => {
    const byId = await get(`/conversations/${devConversation}`);
    expect(byId).toMatchObject({
      status: 200,
      body: {
        id: devConversation,
        provider: 'whatsapp',
        status: 'open',
        genesysConversationId: 'gc-api-1',
        agentId: 'agent-0001',
        customer: { phoneE164: '+16315551181', whatsappId: CUSTOMER, name: 'Kerry Fisher' },
      },
    });
    expect((await get(`/conversations/by-whatsapp/${CUSTOMER}`)).body).toEqual(byId.body);
    expect((await get(`/conversations/by-whatsapp/+${CUSTOMER}`)).body).toEqual(byId.body);
    expect((await get('/conversations/by-genesys/gc-api-1')).body).toEqual(byId.body);
    expect((await get('/conversations/by-genesys/gc-unknown')).status).toBe(404);
    expect((await get('/conversations/not-a-uuid')).status).toBe(400);
  });

  it('pages through the history newest first with a cursor, without gaps or repeats', async () => {
    const seen: Json[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const page = await get(`/conversations/${devConversation}/messages?limit=2${q}`);
      expect(page.status).toBe(200);
      seen.push(...(page.body.messages as Json[]));
      cursor = page.body.nextCursor as string | null;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    // Newest first: the agent's reply, then the customer's messages (stored in one or more batches).
    expect(seen[0]?.providerMessageId).toBe('gm-api-1');
    expect(new Set(seen.map((m) => m.providerMessageId))).toEqual(
      new Set(['gm-api-1', ...[0, 1, 2, 3, 4].map((i) => `wamid.dev-${i}`)]),
    );
    expect(seen).toHaveLength(6);
    const times = seen.map((m) => Date.parse(m.receivedAt as string));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(seen[0]).toMatchObject({ direction: 'outbound', provider: 'genesys', text: 'hello' });
    expect((await get(`/conversations/${devConversation}/messages?cursor=garbage`)).status).toBe(400);
  });
});

describe('customers', () => {
  it('finds a customer by phone in any format and by name, and shows the profile', async () => {
    for (const phone of ['+1 631-555-1181', '0016315551181', '16315551181', '(+1) 631 555 1181']) {
      const found = await get(`/customers?phone=${encodeURIComponent(phone)}`);
      expect(found.status).toBe(200);
      expect(found.body.customers).toEqual([
        expect.objectContaining({ phoneE164: '+16315551181', name: 'Kerry Fisher' }),
      ]);
    }
    const byName = await get('/customers?name=kerry');
    expect(byName.body.customers).toHaveLength(1);
    const id = (byName.body.customers as Json[])[0]?.id as string;
    const profile = await get(`/customers/${id}`);
    expect(profile.body).toMatchObject({
      id,
      phoneE164: '+16315551181',
      conversations: [{ id: devConversation, provider: 'whatsapp', status: 'open', messages: 6 }],
    });
    expect((await get('/customers?phone=12')).status).toBe(400);
    expect((await get('/customers')).status).toBe(400);
  });

  it('reads a national number in the worker default region, or in the region the search names', async () => {
    const search = async (phone: string, region?: string) => {
      const q = `phone=${encodeURIComponent(phone)}${region === undefined ? '' : `&region=${region}`}`;
      return get(`/customers?${q}`);
    };
    const phones = async (r: { status: number; body: Json }) =>
      r.status === 200 ? (r.body.customers as Json[]).map((c) => c.phoneE164) : r.status;
    // DEFAULT_PHONE_REGION=US: a US national number, in any punctuation.
    for (const national of ['(631) 555-1181', '631-555-1181', '631 555 1181']) {
      expect(await phones(await search(national)), national).toEqual(['+16315551181']);
    }
    // The request's region wins over the default, in any case.
    expect(await phones(await search('07911 123456', 'gb'))).toEqual([`+${DORA}`]);
    expect(await phones(await search('07911 123456', 'GB'))).toEqual([`+${DORA}`]);
    expect(await phones(await search('(631) 555-1181', 'GB'))).not.toContain('+16315551181');
    // International forms mean the same in every region.
    expect(await phones(await search(`+${DORA}`, 'US'))).toEqual([`+${DORA}`]);
    expect(await phones(await search('0016315551181', 'GB'))).toEqual(['+16315551181']);
    // A region libphonenumber does not know, or a region without a phone, is a bad request.
    const bad = await search('(631) 555-1181', 'XX');
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(JSON.stringify(bad.body)).toContain('region');
    expect((await get('/customers?name=kerry&region=US')).status).toBe(400);
  });
});

describe('tenant isolation', () => {
  it("never shows one tenant another tenant's conversations, messages or customers", async () => {
    const devCustomer = ((await get('/customers?name=kerry')).body.customers as Json[])[0]?.id as string;
    for (const path of [
      `/conversations/${devConversation}`,
      `/conversations/${devConversation}/messages`,
      '/conversations/by-genesys/gc-api-1',
      `/customers/${devCustomer}`,
    ]) {
      expect((await get(path, acme.token)).status, path).toBe(404);
    }
    // The same WhatsApp user is a customer of both tenants: each sees only its own conversation.
    expect((await get(`/conversations/by-whatsapp/${CUSTOMER}`, acme.token)).body.id).toBe(acmeConversation);
    expect((await get('/customers?name=kerry', acme.token)).body.customers).toEqual([
      expect.objectContaining({ name: 'Kerry at Acme' }),
    ]);
    expect((await get(`/conversations/${acmeConversation}`)).status).toBe(404);
  });

  it("never finds another tenant's customer by phone or by name", async () => {
    const customers = async (query: string, token?: string) =>
      ((await get(`/customers?${query}`, token)).body.customers as Json[]).map((c) => ({ id: c.id, name: c.name }));
    // Dora wrote to dev only: dev finds her by phone and by name, Acme by neither.
    const dora = await customers(`phone=%2B${DORA}`);
    expect(dora).toEqual([expect.objectContaining({ name: 'Dora Devonly' })]);
    expect(await customers('name=dora')).toEqual(dora);
    for (const query of [`phone=%2B${DORA}`, `phone=${DORA}`, 'name=dora', 'name=devonly']) {
      expect(await customers(query, acme.token), query).toEqual([]);
    }
    // Kerry wrote to both: each tenant's search by the same phone finds only its own customer.
    const devKerry = await customers(`phone=${CUSTOMER}`);
    const acmeKerry = await customers(`phone=${CUSTOMER}`, acme.token);
    expect(devKerry).toEqual([expect.objectContaining({ name: 'Kerry Fisher' })]);
    expect(acmeKerry).toEqual([expect.objectContaining({ name: 'Kerry at Acme' })]);
    expect(acmeKerry[0]?.id).not.toBe(devKerry[0]?.id);
    // A name both tenants' customers share still answers each with its own.
    expect(await customers('name=kerry', acme.token)).toEqual(acmeKerry);
  });

  it("does not let one tenant's Genesys integration write into another tenant's conversation", async () => {
    const before = p.events.ofKey('message.sent').length;
    const intruder = genesysAgentText({
      id: 'gm-intruder',
      to: CUSTOMER,
      text: 'not yours',
      conversationId: 'gc-api-1',
      integration: ACME_GENESYS,
    });
    expect((await p.postWebhooks('/webhooks/genesys', signedGenesys(intruder))).status).toBe(200);
    // Acme's message goes to Acme's own conversation with that WhatsApp user, never dev's.
    await expect.poll(() => p.events.ofKey('message.sent').length, { timeout: 10_000 }).toBe(before + 1);
    const sent = p.events.ofKey('message.sent').at(-1);
    expect(sent?.event.tenantid).toBe(acme.tenantId);
    expect((sent?.event.data as Json | undefined)?.conversationId).toBe(acmeConversation);
    const rows = await p.pool.query('select conversation_id from messages where provider_message_id = $1', [
      'gm-intruder',
    ]);
    expect(rows.rows).toEqual([{ conversation_id: acmeConversation }]);
  });
});

describe('lookup cache', () => {
  const hits = async () =>
    (await p.worker?.metrics.lookupCache.get())?.values.find((v) => v.labels.result === 'hit')?.value ?? 0;
  const total = (m: { values: { value: number }[] } | undefined) => m?.values.reduce((s, v) => s + v.value, 0) ?? 0;
  /** Deliveries the sync-worker settled, and those it is handling now. */
  const settled = async () => total(await p.worker?.metrics.consumer.consumed.get());
  const inFlight = async () => total(await p.worker?.metrics.consumer.inFlight.get());

  it('serves repeated lookups from Redis and drops them when the conversation changes', async () => {
    await get(`/conversations/${devConversation}`);
    const before = await hits();
    expect((await get(`/conversations/${devConversation}`)).body.agentId).toBe('agent-0001');
    expect(await hits()).toBe(before + 1);

    // Another agent answers: the cached answer must not survive the change.
    const reply = genesysAgentText({
      id: 'gm-api-2',
      to: CUSTOMER,
      text: 'taking over',
      conversationId: 'gc-api-1',
      agent: { id: 'agent-0002' },
    });
    await p.postWebhooks('/webhooks/genesys', signedGenesys(reply));
    await expect
      .poll(async () => (await get(`/conversations/${devConversation}`)).body.agentId, { timeout: 10_000 })
      .toBe('agent-0002');
    const page = await get(`/conversations/${devConversation}/messages?limit=1`);
    expect((page.body.messages as Json[])[0]?.providerMessageId).toBe('gm-api-2');
  });

  it('drops cached history when a status changes a message without an event: a late delivered, a late failure', async () => {
    const wamid = 'wamid.dev-3';
    const T0 = 1_700_000_000;
    const report = (status: 'delivered' | 'read' | 'failed', at: number) =>
      p.post('/webhooks/whatsapp', signedWhatsApp(whatsappStatus({ id: wamid, status, timestamp: at })));
    const stored = async () =>
      (
        await p.pool.query(
          'select delivery_status, delivered_at, failed_at from messages where provider_message_id = $1',
          [wamid],
        )
      ).rows[0];
    const shown = async () =>
      ((await get(`/conversations/${devConversation}/messages?limit=50`)).body.messages as Json[]).find(
        (m) => m.providerMessageId === wamid,
      );

    // The earlier tests waited for their writes to commit, not to settle: once nothing is in
    // flight, the next settled delivery is this report's.
    await expect.poll(inFlight, { timeout: 10_000 }).toBe(0);
    const settledBefore = await settled();
    expect((await report('read', T0 + 30)).status).toBe(200);
    // Settled is after the change's invalidation (the unit of work bumps the lookup keys its commit
    // touched before the batch's outcomes reach the consumer). A read between the commit and that
    // bump would cache the new row under the generation the bump retires, and the repeated read
    // below would miss; from here every read is under the generation that stays.
    await expect.poll(settled, { timeout: 10_000 }).toBe(settledBefore + 1);
    await expect.poll(shown, { timeout: 10_000 }).toMatchObject({ deliveryStatus: 'read', deliveredAt: null });
    // The history is cached now.
    const before = await hits();
    expect(await shown()).toMatchObject({ deliveryStatus: 'read', deliveredAt: null });
    expect(await hits()).toBe(before + 1);

    // Older than `read`: the status stays, the time is stamped, no event is written.
    expect((await report('delivered', T0 + 20)).status).toBe(200);
    await expect
      .poll(async () => (await stored())?.delivered_at, { timeout: 10_000 })
      .toEqual(new Date((T0 + 20) * 1000));
    // Well inside LOOKUP_CACHE_TTL_SECONDS (300): only an invalidation makes it visible this soon.
    await expect
      .poll(async () => (await shown())?.deliveredAt, { timeout: 5_000 })
      .toBe(new Date((T0 + 20) * 1000).toISOString());

    expect((await report('failed', T0 + 40)).status).toBe(200);
    await expect.poll(async () => (await stored())?.failed_at, { timeout: 10_000 }).toEqual(new Date((T0 + 40) * 1000));
    await expect.poll(shown, { timeout: 5_000 }).toMatchObject({
      deliveryStatus: 'read',
      failedAt: new Date((T0 + 40) * 1000).toISOString(),
      errors: [expect.objectContaining({ code: 131050 })],
    });
  });
});

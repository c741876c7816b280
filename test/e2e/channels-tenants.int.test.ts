import { addChannel, rotateChannelSecret, schema } from '@switchboard/db';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  DEV_MAILGUN_SIGNING_KEY,
  DEV_PHONE_NUMBER_ID,
  DEV_WHATSAPP_SECRET,
  deliveredEventData,
  inboundFields,
  inboundUrlencoded,
  mailgunEventBody,
  mailgunSignature,
  signedWhatsApp,
  whatsappFixturePayload,
} from '@switchboard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEV_GENESYS_INTEGRATION, DEV_GENESYS_SECRET, genesysAgentText, signedGenesys } from '../fixtures/genesys.ts';

/**
 * The channel registry end to end: per-channel secrets verified at the edge (from the registry
 * snapshot the sync-worker publishes to Redis), rotation with a grace period, and two tenants that cannot
 * write into each other's data through the webhooks.
 */
const B_NUMBER = '222000111222333';
const B_SECRET = 'tenant-b-secret-0123456789';

let p: Pipeline;
let tenantB: string;
let channelB: string;
beforeEach(async () => {
  p = await startPipeline();
  const [t] = await p.db.insert(schema.tenants).values({ slug: 'tenant-b', name: 'Tenant B' }).returning();
  tenantB = t?.id as string;
  channelB = (
    await addChannel(p.db, { tenantId: tenantB, provider: 'whatsapp', accountId: B_NUMBER, secret: B_SECRET })
  ).id;
  // Each registry change below is followed by this, so the edges hold it before the next request.
  await p.syncChannelSecrets();
});
afterEach(async () => {
  await p.stop();
});

const text = (id: string, phoneNumberId: string, from = '16315551181') =>
  whatsappFixturePayload(
    {
      contacts: [{ profile: { name: 'Same Person' }, wa_id: from }],
      messages: [{ from, id, timestamp: '1700000000', type: 'text', text: { body: id } }],
    },
    phoneNumberId,
  );
const post = (payload: unknown, secret: string) => p.post('/webhooks/whatsapp', signedWhatsApp(payload, secret));
const tenantOf = async (wamid: string) =>
  (await p.pool.query<{ tenant_id: string }>('select tenant_id from messages where provider_message_id = $1', [wamid]))
    .rows[0]?.tenant_id;

describe('per-channel secrets at the edge', () => {
  it('a channel with a secret accepts only it; a channel without one uses the env default', async () => {
    expect((await post(text('wamid.b-env', B_NUMBER), DEV_WHATSAPP_SECRET)).status).toBe(401);
    expect((await post(text('wamid.b-own', B_NUMBER), B_SECRET)).status).toBe(200);
    expect((await post(text('wamid.a-env', DEV_PHONE_NUMBER_ID), DEV_WHATSAPP_SECRET)).status).toBe(200);
    expect((await post(text('wamid.a-b', DEV_PHONE_NUMBER_ID), B_SECRET)).status).toBe(401);
  });

  it('Genesys: an integration with its own secret accepts only it; the env default still signs the others', async () => {
    const B_GENESYS = 'tenant-b-genesys';
    const B_GENESYS_SECRET = 'tenant-b-genesys-secret-0123';
    await addChannel(p.db, { tenantId: tenantB, provider: 'genesys', accountId: B_GENESYS, secret: B_GENESYS_SECRET });
    await p.syncChannelSecrets();
    const reply = (integration: string) =>
      genesysAgentText({ id: `g-${integration}-${Date.now()}`, to: '16315551181', text: 'hi', integration });
    const postG = (payload: unknown, secret: string) =>
      p.postWebhooks('/webhooks/genesys', signedGenesys(payload, secret));
    expect((await postG(reply(B_GENESYS), DEV_GENESYS_SECRET)).status).toBe(401);
    expect((await postG(reply(B_GENESYS), B_GENESYS_SECRET)).status).toBe(200);
    expect((await postG(reply(DEV_GENESYS_INTEGRATION), DEV_GENESYS_SECRET)).status).toBe(200);
    expect((await postG(reply(DEV_GENESYS_INTEGRATION), B_GENESYS_SECRET)).status).toBe(401);
  });

  it("a body naming two tenants' numbers must verify with each one's secrets", async () => {
    const both = text('wamid.both', DEV_PHONE_NUMBER_ID);
    both.entry.push(...text('wamid.both-b', B_NUMBER).entry);
    expect((await post(both, B_SECRET)).status).toBe(401);
    expect((await post(both, DEV_WHATSAPP_SECRET)).status).toBe(401);
    expect(p.events.received).toHaveLength(0);
  });

  it('after a rotation the old secret works for the grace period, and not after it', async () => {
    const second = 'tenant-b-second-secret-000';
    await rotateChannelSecret(p.db, channelB, 3_600_000, second);
    await p.syncChannelSecrets();
    expect((await post(text('wamid.r-new', B_NUMBER), second)).status).toBe(200);
    expect((await post(text('wamid.r-old', B_NUMBER), B_SECRET)).status).toBe(200);
    const third = 'tenant-b-third-secret-0000';
    await rotateChannelSecret(p.db, channelB, 0, third);
    await p.syncChannelSecrets();
    expect((await post(text('wamid.r-third', B_NUMBER), third)).status).toBe(200);
    expect((await post(text('wamid.r-second', B_NUMBER), second)).status).toBe(401);
    // The first secret's grace period has not ended yet: it still verifies.
    expect((await post(text('wamid.r-first', B_NUMBER), B_SECRET)).status).toBe(200);
  });

  it("Mailgun: a tenant's domain with its own signing key accepts only it, on both routes, with rotation grace", async () => {
    const B_DOMAIN = 'mg.tenant-b.test';
    const B_KEY = 'tenant-b-mailgun-key-0123456';
    const mgB = (await addChannel(p.db, { tenantId: tenantB, provider: 'mailgun', accountId: B_DOMAIN, secret: B_KEY }))
      .id;
    // The dev tenant's domain verifies with the env key.
    await addChannel(p.db, { tenantId: p.tenant.tenantId, provider: 'mailgun', accountId: 'example.org' });
    await p.syncChannelSecrets();
    let n = 0;
    const forward = (key: string, domain = B_DOMAIN) =>
      p.post(
        '/webhooks/mailgun/inbound',
        inboundUrlencoded(
          inboundFields({
            recipient: `sales@${domain}`,
            'message-headers': JSON.stringify([['Message-Id', `<fwd-${++n}@customer.example>`]]),
          }),
          mailgunSignature(key),
        ),
      );
    const event = (key: string, domain = B_DOMAIN) =>
      p.post(
        '/webhooks/mailgun/events',
        mailgunEventBody(
          deliveredEventData({ id: `evt-${++n}`, envelope: { sender: `bot@${domain}` } }),
          mailgunSignature(key),
        ),
      );
    const statuses = async (key: string, domain = B_DOMAIN) => [
      (await forward(key, domain)).status,
      (await event(key, domain)).status,
    ];

    expect(await statuses(DEV_MAILGUN_SIGNING_KEY)).toEqual([401, 401]);
    expect(await statuses(B_KEY)).toEqual([200, 200]);
    expect(await statuses(B_KEY, 'example.org')).toEqual([401, 401]);
    expect(await statuses(DEV_MAILGUN_SIGNING_KEY, 'example.org')).toEqual([200, 200]);

    const second = 'tenant-b-mailgun-key-second';
    await rotateChannelSecret(p.db, mgB, 3_600_000, second);
    await p.syncChannelSecrets();
    expect(await statuses(second)).toEqual([200, 200]);
    expect(await statuses(B_KEY)).toEqual([200, 200]);
    await rotateChannelSecret(p.db, mgB, 0, 'tenant-b-mailgun-key-third');
    await p.syncChannelSecrets();
    expect(await statuses(second)).toEqual([401, 401]);
    // The first key's grace period has not ended yet.
    expect(await statuses(B_KEY)).toEqual([200, 200]);

    // What tenant B's key signed lands in tenant B: its customer's email is B's, not dev's.
    await expect
      .poll(
        async () => {
          const res = await p.pool.query<{ tenant_id: string }>(
            `select distinct tenant_id from messages where provider = 'mailgun' and direction = 'inbound'`,
          );
          return res.rows.map((r) => r.tenant_id).sort();
        },
        { timeout: 10_000 },
      )
      .toEqual([p.tenant.tenantId, tenantB].sort());
  });

  it('the sync-worker serves no secrets over HTTP: the edges read the sealed snapshot from Redis', async () => {
    const url = `${p.workerUrl}/internal/channels/whatsapp/${B_NUMBER}/secrets`;
    expect((await fetch(url, { headers: { authorization: 'Bearer dev-internal-token' } })).status).toBe(404);
  });
});

describe('two tenants through the webhooks', () => {
  it('the same customer number writes into each tenant separately, never across', async () => {
    expect((await post(text('wamid.t-a', DEV_PHONE_NUMBER_ID), DEV_WHATSAPP_SECRET)).status).toBe(200);
    expect((await post(text('wamid.t-b', B_NUMBER), B_SECRET)).status).toBe(200);
    await expect.poll(() => p.events.ofKey('message.received').length, { timeout: 10_000 }).toBe(2);
    expect(await tenantOf('wamid.t-a')).toBe(p.tenant.tenantId);
    expect(await tenantOf('wamid.t-b')).toBe(tenantB);
    const rows = await p.pool.query<{ tenant_id: string; customers: string; conversations: string }>(
      `select c.tenant_id, count(distinct c.id) as customers, count(distinct v.id) as conversations
         from customers c join conversations v on v.customer_id = c.id and v.tenant_id = c.tenant_id
        group by c.tenant_id order by c.tenant_id`,
    );
    expect(rows.rows.map((r) => [r.tenant_id, Number(r.customers), Number(r.conversations)]).sort()).toEqual(
      [
        [p.tenant.tenantId, 1, 1],
        [tenantB, 1, 1],
      ].sort(),
    );
    // Every message sits in a conversation of its own tenant.
    const crossed = await p.pool.query(
      'select 1 from messages m join conversations v on v.id = m.conversation_id where v.tenant_id <> m.tenant_id',
    );
    expect(crossed.rowCount).toBe(0);
    // Each tenant's event carries its tenant.
    const tenants = p.events
      .ofKey('message.received')
      .map((e) => e.event.tenantid)
      .sort();
    expect(tenants).toEqual([p.tenant.tenantId, tenantB].sort());
  });
});

import { addChannel, disableChannel, schema } from '@switchboard/db';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  DEV_WHATSAPP_SECRET,
  queueDepth,
  signedWhatsApp,
  testUrls,
  whatsappFixturePayload,
} from '@switchboard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { switchboard } from '../cli/run.ts';
import { genesysAgentText, genesysReceipt, signedGenesys } from '../fixtures/genesys.ts';

/**
 * Events of an account no active channel claims (none, or a disabled one) are parked, every kind
 * alike, and counted; a channel added later is seen by the very next event, and what was parked
 * before replays into it with the DLQ command line.
 */
const B_NUMBER = '222000111222333';
const B_SECRET = 'tenant-b-secret-0123456789';
const B_GENESYS = 'tenant-b-genesys';
const B_GENESYS_SECRET = 'tenant-b-genesys-secret-0123';
const NOBODY = '999000111222333';

let p: Pipeline;
let tenantB: string;
let parkedQueue: string;
beforeEach(async () => {
  p = await startPipeline();
  const [t] = await p.db.insert(schema.tenants).values({ slug: 'tenant-b', name: 'Tenant B' }).returning();
  tenantB = t?.id as string;
  parkedQueue = p.worker?.topology.consumers.syncInbound.parkedQueue as string;
});
afterEach(async () => {
  await p.stop();
});

const message = (id: string, phoneNumberId: string) =>
  whatsappFixturePayload(
    {
      contacts: [{ profile: { name: 'Same Person' }, wa_id: '16315551181' }],
      messages: [{ from: '16315551181', id, timestamp: '1700000000', type: 'text', text: { body: id } }],
    },
    phoneNumberId,
  );
const status = (id: string, phoneNumberId: string) =>
  whatsappFixturePayload(
    { statuses: [{ id, status: 'delivered', timestamp: '1700000010', recipient_id: '16315551181' }] },
    phoneNumberId,
  );
const post = async (payload: unknown, secret: string) =>
  expect((await p.post('/webhooks/whatsapp', signedWhatsApp(payload, secret))).status).toBe(200);
const parked = async (provider: string, reason: string) =>
  (await p.worker?.metrics.parked.get())?.values.find(
    (v) => v.labels.provider === provider && v.labels.reason === reason,
  )?.value ?? 0;
const count = async (sql: string, params: unknown[] = []) => Number((await p.pool.query(sql, params)).rows[0].n);
const deadLettered = async () =>
  (await p.worker?.metrics.consumer.deadLettered.get())?.values.reduce((n, v) => n + v.value, 0) ?? 0;

const dlq = (...args: string[]) =>
  switchboard(['dlq', ...args], { AMQP_URL: testUrls.amqp, AMQP_NAMESPACE: p.env.AMQP_NAMESPACE ?? '' }).then((r) =>
    r.code === 0 ? r.stdout : Promise.reject(r),
  );

describe('events no active channel claims', () => {
  it('an unknown account: its messages and statuses are parked and counted, not dead-lettered', async () => {
    await post(message('wamid.nobody', NOBODY), DEV_WHATSAPP_SECRET);
    await post(status('wamid.nobody', NOBODY), DEV_WHATSAPP_SECRET);
    await expect.poll(() => queueDepth(parkedQueue), { timeout: 10_000 }).toBe(2);
    expect(await parked('whatsapp', 'unknown_channel')).toBe(2);
    expect(await deadLettered()).toBe(0);
    expect(await count('select count(*) n from messages')).toBe(0);
    expect(await count('select count(*) n from pending_statuses')).toBe(0);
  });

  it('a disabled channel: its messages, statuses and Genesys receipts are parked and counted, nothing applied', async () => {
    const whatsapp = await addChannel(p.db, {
      tenantId: tenantB,
      provider: 'whatsapp',
      accountId: B_NUMBER,
      secret: B_SECRET,
    });
    const genesys = await addChannel(p.db, {
      tenantId: tenantB,
      provider: 'genesys',
      accountId: B_GENESYS,
      secret: B_GENESYS_SECRET,
    });
    await disableChannel(p.db, whatsapp.id);
    await disableChannel(p.db, genesys.id);
    // The edges verify with the channels' own secrets from the next request on.
    await p.syncChannelSecrets();

    await post(message('wamid.off', B_NUMBER), B_SECRET);
    await post(status('wamid.off-reply', B_NUMBER), B_SECRET);
    const receipt = genesysReceipt({ id: 'gm-off', to: '16315551181', status: 'Delivered' });
    const res = await p.postWebhooks(
      '/webhooks/genesys',
      signedGenesys({ ...receipt, channel: { ...receipt.channel, id: B_GENESYS } }, B_GENESYS_SECRET),
    );
    expect(res.status).toBe(200);
    await expect.poll(() => queueDepth(parkedQueue), { timeout: 10_000 }).toBe(3);
    expect(await parked('whatsapp', 'channel_disabled')).toBe(2);
    expect(await parked('genesys', 'channel_disabled')).toBe(1);
    expect(await count('select count(*) n from messages where tenant_id = $1', [tenantB])).toBe(0);
    expect(await count('select count(*) n from pending_statuses where tenant_id = $1', [tenantB])).toBe(0);
    expect(await count('select count(*) n from message_status_reports where tenant_id = $1', [tenantB])).toBe(0);
    expect(await deadLettered()).toBe(0);
  });

  it('a channel added after its first events: the next one is applied at once, the parked ones replay', async () => {
    await post(message('wamid.early', B_NUMBER), DEV_WHATSAPP_SECRET);
    await expect.poll(() => queueDepth(parkedQueue), { timeout: 10_000 }).toBe(1);

    // `npm run channels -- add`: the worker hears of it at commit, not when a cached answer expires.
    await addChannel(p.db, { tenantId: tenantB, provider: 'whatsapp', accountId: B_NUMBER });
    await post(message('wamid.next', B_NUMBER), DEV_WHATSAPP_SECRET);
    await expect.poll(() => p.events.ofKey('message.received').length, { timeout: 5_000 }).toBe(1);
    expect(p.events.ofKey('message.received')[0]?.event.tenantid).toBe(tenantB);

    // The parked event is there to read, with its reason, and to replay.
    const shown = (await dlq('show', parkedQueue)).trim().split('\n');
    expect(shown).toHaveLength(1);
    const letter = JSON.parse(shown[0] as string) as { reason: string; body: string; type: string };
    expect(letter.reason).toMatch(/^unknown_channel: no WhatsApp channel for phone_number_id 222000111222333/);
    expect(letter.type).toBe('switchboard.inbound.whatsapp.message.received.v1');
    expect(JSON.parse(letter.body)).toMatchObject({ data: { accountId: B_NUMBER, messageId: 'wamid.early' } });
    expect(await dlq('list')).toContain(`${parkedQueue}`);

    expect(await dlq('replay', parkedQueue, '--yes')).toContain('replayed 1 message(s)');
    await expect.poll(() => p.events.ofKey('message.received').length, { timeout: 10_000 }).toBe(2);
    const stored = await p.pool.query<{ provider_message_id: string; tenant_id: string }>(
      'select provider_message_id, tenant_id from messages order by provider_message_id',
    );
    expect(stored.rows).toEqual([
      { provider_message_id: 'wamid.early', tenant_id: tenantB },
      { provider_message_id: 'wamid.next', tenant_id: tenantB },
    ]);
    expect(await queueDepth(parkedQueue)).toBe(0);
    expect(await deadLettered()).toBe(0);
  });
});

describe('a Genesys agent message for a disabled integration', () => {
  it('is parked like any event of it', async () => {
    const genesys = await addChannel(p.db, { tenantId: tenantB, provider: 'genesys', accountId: B_GENESYS });
    await disableChannel(p.db, genesys.id);
    const reply = genesysAgentText({ id: 'gm-x', to: '16315551181', text: 'hi', integration: B_GENESYS });
    expect((await p.postWebhooks('/webhooks/genesys', signedGenesys(reply))).status).toBe(200);
    await expect.poll(() => queueDepth(parkedQueue), { timeout: 10_000 }).toBe(1);
    expect(await parked('genesys', 'channel_disabled')).toBe(1);
  });
});

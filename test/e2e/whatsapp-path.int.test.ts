import { signHmacSha256 } from '@switchboard/platform';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  DEV_WHATSAPP_SECRET,
  peekQueue,
  queueDepth,
  signedWhatsApp,
  whatsappStatus,
  whatsappText,
} from '@switchboard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let p: Pipeline;
beforeEach(async () => {
  p = await startPipeline();
});
afterEach(async () => {
  await p.stop();
});

const count = async (sql: string, params: unknown[] = []) =>
  Number((await p.pool.query<{ n: string }>(sql, params)).rows[0]?.n);

describe('a signed WhatsApp message, webhook to Postgres to switchboard.events', () => {
  it('stores one message and emits one message.received when the same webhook is posted twice', async () => {
    const req = signedWhatsApp(whatsappText({ from: '16315551181', id: 'wamid.dup-1', text: 'hello' }));
    expect((await p.post('/webhooks/whatsapp', req)).status).toBe(200);
    expect((await p.post('/webhooks/whatsapp', req)).status).toBe(200);

    await expect.poll(() => p.events.ofKey('message.received').length, { timeout: 10_000 }).toBe(1);
    // Both deliveries settle: the second as a skipped duplicate, not a second row.
    await expect
      .poll(() => p.worker?.metrics.consumer.consumed.get().then((m) => m.values.reduce((s, v) => s + v.value, 0)))
      .toBe(2);
    expect(await count('select count(*) as n from messages')).toBe(1);
    expect(p.events.ofKey('conversation.opened')).toHaveLength(1);
    const [received] = p.events.ofKey('message.received');
    expect(received?.event).toMatchObject({
      specversion: '1.0',
      type: 'switchboard.message.received.v1',
      tenantid: p.tenant.tenantId,
      data: { providerMessageId: 'wamid.dup-1', from: '+16315551181', text: 'hello', type: 'text' },
    });
    expect(received?.event.subject).toBe(
      (received?.event.data as { conversationId?: string } | undefined)?.conversationId,
    );
  });

  it('gives 50 concurrent first messages from one new customer one customer and one conversation', async () => {
    const posts = Array.from({ length: 50 }, (_, i) =>
      p.post(
        '/webhooks/whatsapp',
        signedWhatsApp(whatsappText({ from: '4915112345678', id: `wamid.c-${i}`, text: `m${i}` })),
      ),
    );
    const statuses = (await Promise.all(posts)).map((r) => r.status);
    expect(new Set(statuses)).toEqual(new Set([200]));

    await expect.poll(() => p.events.ofKey('message.received').length, { timeout: 20_000 }).toBe(50);
    expect(await count('select count(*) as n from customers')).toBe(1);
    expect(await count('select count(*) as n from conversations')).toBe(1);
    expect(await count('select count(*) as n from messages')).toBe(50);
    expect(p.events.ofKey('conversation.opened')).toHaveLength(1);
    const ids = new Set(
      p.events.ofKey('message.received').map((r) => (r.event.data as { conversationId: string }).conversationId),
    );
    expect(ids.size).toBe(1);
  });

  it('keeps a message read, with both timestamps, when read arrives before delivered', async () => {
    await p.post(
      '/webhooks/whatsapp',
      signedWhatsApp(whatsappText({ from: '16315551181', id: 'wamid.s-1', text: 'hi' })),
    );
    await expect.poll(() => p.events.ofKey('message.received').length).toBe(1);

    const read = signedWhatsApp(whatsappStatus({ id: 'wamid.s-1', status: 'read', timestamp: 1_700_000_300 }));
    const delivered = signedWhatsApp(
      whatsappStatus({ id: 'wamid.s-1', status: 'delivered', timestamp: 1_700_000_200 }),
    );
    expect((await p.post('/webhooks/whatsapp', read)).status).toBe(200);
    await expect.poll(() => p.events.ofKey('message.status.changed').length).toBe(1);
    expect((await p.post('/webhooks/whatsapp', delivered)).status).toBe(200);
    await expect
      .poll(async () => (await p.pool.query('select delivered_at from messages')).rows[0]?.delivered_at)
      .toEqual(new Date(1_700_000_200_000));

    const { rows } = await p.pool.query('select delivery_status, delivered_at, read_at from messages');
    expect(rows[0]).toEqual({
      delivery_status: 'read',
      delivered_at: new Date(1_700_000_200_000),
      read_at: new Date(1_700_000_300_000),
    });
    // Only the move to `read` is an event; the late `delivered` is recorded without one.
    expect(p.events.ofKey('message.status.changed').map((r) => (r.event.data as { status: string }).status)).toEqual([
      'read',
    ]);
  });

  it('holds a status for a message not stored yet and applies it when the message arrives', async () => {
    const status = signedWhatsApp(whatsappStatus({ id: 'wamid.early', status: 'delivered', timestamp: 1_700_000_100 }));
    expect((await p.post('/webhooks/whatsapp', status)).status).toBe(200);
    await expect.poll(() => count('select count(*) as n from pending_statuses')).toBe(1);

    await p.post(
      '/webhooks/whatsapp',
      signedWhatsApp(whatsappText({ from: '16315551181', id: 'wamid.early', text: 'x' })),
    );
    await expect.poll(() => p.events.ofKey('message.status.changed').length).toBe(1);
    const { rows } = await p.pool.query('select delivery_status, delivered_at from messages');
    expect(rows[0]).toEqual({ delivery_status: 'delivered', delivered_at: new Date(1_700_000_100_000) });
    expect(await count('select count(*) as n from pending_statuses')).toBe(0);
    // message.received precedes the status change it made possible.
    expect(p.events.received.map((r) => r.routingKey)).toEqual([
      'conversation.opened',
      'message.received',
      'message.status.changed',
    ]);
  });
});

describe('rejected webhooks publish nothing', () => {
  const valid = () => signedWhatsApp(whatsappText({ from: '16315551181', id: 'wamid.r-1', text: 'x' }));

  it.each([
    [
      'a bad signature',
      () => ({ ...valid(), headers: { ...valid().headers, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } }),
      401,
      'invalid_signature',
    ],
    [
      'a missing signature',
      () => ({ ...valid(), headers: { 'content-type': 'application/json' } }),
      401,
      'invalid_signature',
    ],
    [
      'malformed JSON without the app secret',
      () => signedRaw('{"object": "whatsapp_business_account",', 'not-the-app-secret'),
      401,
      'invalid_signature',
    ],
    ['an oversized body', () => signedRaw(`{"pad":"${'x'.repeat(1024 * 1024)}"}`), 413, 'payload_too_large'],
    [
      'a wrong content type',
      () => ({ ...valid(), headers: { ...valid().headers, 'content-type': 'text/plain' } }),
      415,
      'unsupported_media_type',
    ],
  ])('answers %s with its status code', async (_name, make, status, error) => {
    const res = await p.post('/webhooks/whatsapp', make());
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ error });
    // Nothing reached the broker: no inbound delivery, no parked payload.
    expect(await queueDepth(`${p.env.AMQP_NAMESPACE}sync-worker.inbound`)).toBe(0);
    expect(await queueDepth(p.names.parked)).toBe(0);
    expect((await p.worker?.metrics.consumer.consumed.get())?.values).toHaveLength(0);
  });
});

function signedRaw(body: string, secret = DEV_WHATSAPP_SECRET) {
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': signHmacSha256(body, secret, 'hex'),
    },
  };
}

describe('a signed body that is not JSON', () => {
  it('is parked exactly as it came and counted, answered 200, and nothing reaches the worker', async () => {
    const body = '{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [';
    const res = await p.post('/webhooks/whatsapp', signedRaw(body));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'accepted', events: 0, parked: 1 });

    await expect.poll(() => queueDepth(p.names.parked), { timeout: 10_000 }).toBe(1);
    const [parked] = await peekQueue(p.names.parked);
    expect(parked?.routingKey).toBe('parked.whatsapp');
    expect(parked?.event).toMatchObject({
      type: 'switchboard.inbound.parked.v1',
      source: '/switchboard/ingest/whatsapp',
      data: {
        provider: 'whatsapp',
        reason: expect.stringMatching(/^malformed_json: body is not valid JSON/),
        body,
        contentType: 'application/json',
      },
    });
    const counted = (await p.ingest.metrics.parked.get()).values;
    expect(counted).toEqual([expect.objectContaining({ labels: { provider: 'whatsapp' }, value: 1 })]);
    expect(await queueDepth(`${p.env.AMQP_NAMESPACE}sync-worker.inbound`)).toBe(0);
    expect((await p.worker?.metrics.consumer.consumed.get())?.values).toHaveLength(0);
  });
});

describe('text Postgres cannot store', () => {
  it('stores a message with a NUL character instead of dead-lettering it', async () => {
    const req = signedWhatsApp(
      whatsappText({ from: '16315551181', id: 'wamid.nul', text: 'a\u0000b', name: 'K\u0000' }),
    );
    expect((await p.post('/webhooks/whatsapp', req)).status).toBe(200);
    await expect.poll(() => p.events.ofKey('message.received').length).toBe(1);
    const { rows } = await p.pool.query('select body from messages');
    expect(rows[0]?.body).toBe('a\uFFFDb');
    expect(p.events.ofKey('message.received')[0]?.event.data).toMatchObject({ text: 'a\uFFFDb' });
  });
});

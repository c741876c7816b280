import {
  MailgunEmailReceived as EmailSchema,
  type MailgunEmailReceived,
  MailgunEventReceived,
} from '@switchboard/contracts';
import {
  BrokerUnavailableError,
  createLogger,
  createRedis,
  DependencyUnavailableError,
  type PublishInbound,
  ReplayCache,
  type SecretsFor,
} from '@switchboard/platform';
import {
  DEV_MAILGUN_SIGNING_KEY,
  deliveredEventData,
  engagementEventData,
  failedPermanentEventData,
  failedTemporaryEventData,
  INBOUND_MIME,
  inboundFields,
  inboundMultipart,
  inboundUrlencoded,
  mailgunEventBody,
  mailgunSignature,
  testRedisPrefix,
  testUrls,
} from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { createMetrics } from '../metrics.ts';

const prefix = testRedisPrefix();
const redis = createRedis(testUrls.redis, createLogger('test', 'silent'), { keyPrefix: prefix.prefix });
afterAll(async () => {
  await prefix.cleanup();
  await redis.quit();
});
beforeAll(async () => {
  await prefix.ready;
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
});

type Published = Parameters<PublishInbound>[0];

function app(publish: PublishInbound = async () => undefined, secretsFor?: SecretsFor) {
  return buildApp({
    config: loadConfig({ NODE_ENV: 'test' }),
    logger: createLogger('ingest', 'silent'),
    metrics: createMetrics(),
    publish,
    checks: {},
    ...(secretsFor ? { secretsFor } : {}),
    mailgun: { replay: new ReplayCache(redis, 600_000, 'ingest-test'), now: Date.now },
  });
}

function recorder() {
  const out: Published = [];
  return { out, publish: (async (batch) => void out.push(...batch)) as PublishInbound };
}

const email = (p: Published) => EmailSchema.parse(p[0]?.event.data) as MailgunEmailReceived;

describe('POST /webhooks/mailgun/inbound', () => {
  it('normalizes the forward fields (multipart, with attachments)', async () => {
    const r = recorder();
    const req = await inboundMultipart(inboundFields(), [
      { name: 'attachment-1', filename: 'test.txt', type: 'text/plain', content: 'test attachment' },
    ]);
    const res = await app(r.publish).inject({ method: 'POST', url: '/webhooks/mailgun/inbound', ...req });
    expect(res.statusCode).toBe(200);
    expect(r.out.map((b) => b.routingKey)).toEqual(['mailgun.email.received']);
    expect(email(r.out)).toMatchObject({
      accountId: 'inbound.example.com',
      recipient: 'test@inbound.example.com',
      from: 'from+test@example.org',
      fromName: 'Displayed From',
      subject: 'Test subject',
      messageId: 'CAEPk3R+4Zr@mail.example.org',
      inReplyTo: [],
      references: [],
      text: 'Test body plain',
      strippedText: 'stripped plaintext body',
      sentAt: '2017-10-12T01:31:04.000Z',
      attachments: [{ filename: 'test.txt', contentType: 'text/plain', size: 15 }],
      format: 'fields',
    });
  });

  it('normalizes urlencoded forwards and reads threading headers from the fields', async () => {
    const r = recorder();
    const req = inboundUrlencoded(
      inboundFields({
        'In-Reply-To': '<parent@mg.example.com>',
        References: '<root@mg.example.com> <parent@mg.example.com>',
      }),
    );
    expect((await app(r.publish).inject({ method: 'POST', url: '/webhooks/mailgun/inbound', ...req })).statusCode).toBe(
      200,
    );
    expect(email(r.out)).toMatchObject({
      inReplyTo: ['parent@mg.example.com'],
      references: ['root@mg.example.com', 'parent@mg.example.com'],
    });
  });

  it('parses body-mime with mailparser', async () => {
    const r = recorder();
    const req = await inboundMultipart({
      recipient: 'test@inbound.example.com',
      sender: 'envelope-from@example.org',
      'body-mime': INBOUND_MIME,
    });
    expect((await app(r.publish).inject({ method: 'POST', url: '/webhooks/mailgun/inbound', ...req })).statusCode).toBe(
      200,
    );
    expect(email(r.out)).toMatchObject({
      from: 'test@example.org',
      subject: 'Raw MIME test',
      messageId: 'CAEPk3RKEx@mail.example.org',
      text: "It's a body\u2026\n",
      format: 'mime',
    });
  });

  it('parks a signed forward without a recipient', async () => {
    const r = recorder();
    const req = await inboundMultipart({ 'body-plain': 'hi' });
    const res = await app(r.publish).inject({ method: 'POST', url: '/webhooks/mailgun/inbound', ...req });
    expect(res.statusCode).toBe(200);
    expect(r.out.map((b) => b.routingKey)).toEqual(['parked.mailgun']);
  });

  it('answers 415 for JSON', async () => {
    const res = await app().inject({
      method: 'POST',
      url: '/webhooks/mailgun/inbound',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.statusCode).toBe(415);
  });
});

describe('POST /webhooks/mailgun/events', () => {
  it.each([
    [
      'delivered',
      deliveredEventData(),
      { event: 'delivered', accountId: 'example.org', deliveryStatus: { code: 250 } },
    ],
    ['failed permanent', failedPermanentEventData(), { event: 'failed', severity: 'permanent', reason: 'bounce' }],
    ['failed temporary', failedTemporaryEventData(), { event: 'failed', severity: 'temporary' }],
    ['opened', engagementEventData('opened'), { event: 'opened' }],
    ['clicked', engagementEventData('clicked'), { event: 'clicked', url: 'https://example.com/offer' }],
    ['accepted', engagementEventData('accepted'), { event: 'accepted' }],
    ['complained', engagementEventData('complained'), { event: 'complained' }],
    ['unsubscribed', engagementEventData('unsubscribed'), { event: 'unsubscribed' }],
  ])('%s', async (_n, data, expected) => {
    const r = recorder();
    const res = await app(r.publish).inject({
      method: 'POST',
      url: '/webhooks/mailgun/events',
      ...mailgunEventBody(data),
    });
    expect(res.statusCode).toBe(200);
    expect(r.out.map((b) => b.routingKey)).toEqual(['mailgun.event.received']);
    expect(MailgunEventReceived.parse(r.out[0]?.event.data)).toMatchObject({ accountId: 'example.org', ...expected });
  });

  it('parks an event kind it does not handle', async () => {
    const r = recorder();
    const res = await app(r.publish).inject({
      method: 'POST',
      url: '/webhooks/mailgun/events',
      ...mailgunEventBody(engagementEventData('stored')),
    });
    expect(res.statusCode).toBe(200);
    expect(r.out.map((b) => b.routingKey)).toEqual(['parked.mailgun']);
  });

  it('rejects a forged signature with 401 and publishes nothing', async () => {
    const r = recorder();
    const forged = mailgunSignature('not-the-key');
    const res = await app(r.publish).inject({
      method: 'POST',
      url: '/webhooks/mailgun/events',
      ...mailgunEventBody(deliveredEventData(), forged),
    });
    expect(res.statusCode).toBe(401);
    expect(r.out).toEqual([]);
  });

  it('rejects a stale timestamp with 406 (do not retry)', async () => {
    const r = recorder();
    const stale = mailgunSignature(DEV_MAILGUN_SIGNING_KEY, new Date(Date.now() - 3_600_000));
    const res = await app(r.publish).inject({
      method: 'POST',
      url: '/webhooks/mailgun/events',
      ...mailgunEventBody(deliveredEventData(), stale),
    });
    expect(res.statusCode).toBe(406);
    expect(r.out).toEqual([]);
  });

  it('rejects a replayed token with 406, on either route', async () => {
    const r = recorder();
    const sig = mailgunSignature();
    const a = app(r.publish);
    const first = await a.inject({
      method: 'POST',
      url: '/webhooks/mailgun/events',
      ...mailgunEventBody(deliveredEventData(), sig),
    });
    const again = await a.inject({
      method: 'POST',
      url: '/webhooks/mailgun/events',
      ...mailgunEventBody(deliveredEventData(), sig),
    });
    const inbound = await a.inject({
      method: 'POST',
      url: '/webhooks/mailgun/inbound',
      ...inboundUrlencoded(inboundFields(), sig),
    });
    expect([first.statusCode, again.statusCode, inbound.statusCode]).toEqual([200, 406, 406]);
    expect(r.out).toHaveLength(1);
  });

  it('answers 503 when the broker is down, and accepts the retry with the same token', async () => {
    const sig = mailgunSignature();
    const down = await app(async () => {
      throw new BrokerUnavailableError('down');
    }).inject({ method: 'POST', url: '/webhooks/mailgun/events', ...mailgunEventBody(deliveredEventData(), sig) });
    expect(down.statusCode).toBe(503);
    const r = recorder();
    const retry = await app(r.publish).inject({
      method: 'POST',
      url: '/webhooks/mailgun/events',
      ...mailgunEventBody(deliveredEventData(), sig),
    });
    expect(retry.statusCode).toBe(200);
    expect(r.out).toHaveLength(1);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await app().inject({
      method: 'POST',
      url: '/webhooks/mailgun/events',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(res.statusCode).toBe(400);
  });
});

describe('per-channel signing keys', () => {
  /** A registry stub (the port the edge calls): domains with keys of their own, and every lookup it got. */
  function registry(own: Record<string, string[]>) {
    const asked: Array<[string, string]> = [];
    const secretsFor: SecretsFor = async (provider, account, envDefault) => {
      asked.push([provider, account]);
      return own[account] ?? [envDefault];
    };
    return { asked, secretsFor };
  }
  const B_KEY = 'tenant-b-mailgun-key';

  it('looks up the domain the published event names, for every fixture of both routes', async () => {
    const reg = registry({});
    const r = recorder();
    const a = app(r.publish, reg.secretsFor);
    const forwards = [
      inboundUrlencoded(inboundFields()),
      await inboundMultipart({ recipient: 'test@inbound.example.com', 'body-mime': INBOUND_MIME }),
      // No recipient field: the raw message's To names the domain.
      await inboundMultipart({ sender: 'envelope-from@example.org', 'body-mime': INBOUND_MIME }),
    ];
    for (const req of forwards) {
      expect((await a.inject({ method: 'POST', url: '/webhooks/mailgun/inbound', ...req })).statusCode).toBe(200);
    }
    const events = [
      deliveredEventData(),
      failedPermanentEventData(),
      failedTemporaryEventData(),
      engagementEventData('opened'),
      deliveredEventData({ envelope: undefined, message: { headers: { 'message-id': '<x@mg.tenant-b.test>' } } }),
    ];
    for (const data of events) {
      const res = await a.inject({ method: 'POST', url: '/webhooks/mailgun/events', ...mailgunEventBody(data) });
      expect(res.statusCode).toBe(200);
    }
    const named = r.out.map((b) => (b.event.data as { accountId: string }).accountId);
    expect(named).toEqual([
      'inbound.example.com',
      'inbound.example.com',
      'inbound.example.com',
      'example.org',
      'example.org',
      'example.org',
      'example.org',
      'example.org',
    ]);
    expect(reg.asked).toEqual(named.map((account) => ['mailgun', account]));
  });

  it("a domain with its own key accepts only it; the env key and another domain's key get 401", async () => {
    const reg = registry({ 'mg.tenant-b.test': [B_KEY] });
    const r = recorder();
    const a = app(r.publish, reg.secretsFor);
    const forward = (sig: ReturnType<typeof mailgunSignature>) =>
      a.inject({
        method: 'POST',
        url: '/webhooks/mailgun/inbound',
        ...inboundUrlencoded(inboundFields({ recipient: 'sales@mg.tenant-b.test' }), sig),
      });
    const event = (sig: ReturnType<typeof mailgunSignature>, sender = 'bot@mg.tenant-b.test') =>
      a.inject({
        method: 'POST',
        url: '/webhooks/mailgun/events',
        ...mailgunEventBody(deliveredEventData({ envelope: { sender } }), sig),
      });
    expect((await forward(mailgunSignature())).statusCode).toBe(401);
    expect((await event(mailgunSignature())).statusCode).toBe(401);
    expect((await forward(mailgunSignature(B_KEY))).statusCode).toBe(200);
    expect((await event(mailgunSignature(B_KEY))).statusCode).toBe(200);
    // Tenant B's key cannot sign for a domain that verifies with the env key.
    expect((await event(mailgunSignature(B_KEY), 'test@example.org')).statusCode).toBe(401);
    expect((await event(mailgunSignature(), 'test@example.org')).statusCode).toBe(200);
    expect(r.out.map((b) => (b.event.data as { accountId: string }).accountId)).toEqual([
      'mg.tenant-b.test',
      'mg.tenant-b.test',
      'example.org',
    ]);
  });

  it('answers 503 when the registry cannot say which keys a domain has (Mailgun retries)', async () => {
    const r = recorder();
    const down: SecretsFor = async () => {
      throw new DependencyUnavailableError('channel secrets unavailable');
    };
    const res = await app(r.publish, down).inject({
      method: 'POST',
      url: '/webhooks/mailgun/events',
      ...mailgunEventBody(deliveredEventData()),
    });
    expect(res.statusCode).toBe(503);
    expect(r.out).toEqual([]);
  });
});

import type { ParkedPayload } from '@switchboard/contracts';
import { createLogger, type PublishInbound, type SecretsFor, signHmacSha256 } from '@switchboard/platform';
import { describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createMetrics } from './metrics.ts';

/** The app with a recording publish port; broker behaviour itself is covered by the integration tests. */
function app(publish: PublishInbound = async () => undefined, secretsFor?: SecretsFor) {
  return buildApp({
    config: loadConfig({ NODE_ENV: 'test' }),
    logger: createLogger('ingest', 'silent'),
    metrics: createMetrics(),
    publish,
    checks: {},
    ...(secretsFor ? { secretsFor } : {}),
  });
}

/** A recording publish port and a channel registry stand-in that counts what it was asked. */
function recorder() {
  const published: Array<{ routingKey: string; data: unknown }> = [];
  const asked: string[] = [];
  return {
    published,
    asked,
    publish: (async (batch) => {
      published.push(...batch.map((b) => ({ routingKey: b.routingKey, data: b.event.data })));
    }) satisfies PublishInbound,
    secretsFor: (async (_provider, account, envDefault) => {
      asked.push(account);
      return [envDefault];
    }) satisfies SecretsFor,
  };
}

const post = (body: string | Buffer, signature?: string, contentType = 'application/json') => ({
  method: 'POST' as const,
  url: '/webhooks/whatsapp',
  headers: { 'content-type': contentType, ...(signature === undefined ? {} : { 'x-hub-signature-256': signature }) },
  body,
});
const sign = (body: string | Buffer, secret = 'dev-whatsapp-app-secret') => signHmacSha256(body, secret, 'hex');
const change = (phoneNumberId: string) => ({
  field: 'messages',
  value: { messaging_product: 'whatsapp', metadata: { phone_number_id: phoneNumberId }, statuses: [] },
});
const naming = (n: number) =>
  JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      { id: '1', changes: Array.from({ length: n }, (_, i) => change(`10654035224${String(i).padStart(4, '0')}`)) },
    ],
  });

describe('GET /webhooks/whatsapp (Meta verification handshake)', () => {
  it('echoes the challenge when the verify token matches', async () => {
    const res = await app().inject({
      method: 'GET',
      url: '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=dev-verify-token&hub.challenge=1158201444',
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('1158201444');
  });

  it('refuses a wrong verify token', async () => {
    const res = await app().inject({
      method: 'GET',
      url: '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1',
    });
    expect(res.statusCode).toBe(403);
  });

  it('answers 400 when the handshake is incomplete', async () => {
    expect((await app().inject({ method: 'GET', url: '/webhooks/whatsapp' })).statusCode).toBe(400);
  });
});

describe('POST /webhooks/whatsapp', () => {
  it('parks a signed payload it cannot understand, and still answers 200', async () => {
    const published: string[] = [];
    const body = JSON.stringify({ object: 'page', entry: [] });
    const res = await app(async (batch) => {
      published.push(...batch.map((b) => b.routingKey));
    }).inject({
      method: 'POST',
      url: '/webhooks/whatsapp',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': signHmacSha256(body, 'dev-whatsapp-app-secret', 'hex'),
      },
      body,
    });
    expect(res.statusCode).toBe(200);
    expect(published).toEqual(['parked.whatsapp']);
  });

  it('parks a signed body that is not JSON, exactly as it came, with its content type', async () => {
    const r = recorder();
    const body = '{"object":"whatsapp_business_account","entry":[';
    const res = await app(r.publish, r.secretsFor).inject(post(body, sign(body), 'application/json; charset=utf-8'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'accepted', events: 0, parked: 1 });
    expect(r.published).toHaveLength(1);
    expect(r.published[0]?.routingKey).toBe('parked.whatsapp');
    expect(r.published[0]?.data).toEqual({
      provider: 'whatsapp',
      reason: expect.stringMatching(/^malformed_json: body is not valid JSON/),
      body,
      contentType: 'application/json; charset=utf-8',
    });
    expect(r.asked).toEqual([]);
  });

  it('parks bytes that are not UTF-8 as base64, which decodes to the signed bytes', async () => {
    const r = recorder();
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x22, 0xc3]);
    const res = await app(r.publish).inject(post(body, sign(body)));
    expect(res.statusCode).toBe(200);
    const data = r.published[0]?.data as ParkedPayload;
    expect(data.bodyEncoding).toBe('base64');
    expect(Buffer.from(data.body, 'base64').equals(body)).toBe(true);
  });

  it('answers 401 to a body that is not JSON unless the app secret signed it, publishing nothing', async () => {
    const r = recorder();
    const body = 'not json';
    for (const signature of [undefined, sign(body, 'another-secret'), sign('other bytes')]) {
      expect((await app(r.publish, r.secretsFor).inject(post(body, signature))).statusCode).toBe(401);
    }
    expect(r.published).toEqual([]);
  });

  it('looks up no secret for a malformed signature header, whatever accounts the body names', async () => {
    const r = recorder();
    const body = naming(3);
    for (const signature of [undefined, 'sha256=zz', `${sign(body)}, ${sign(body)}`, sign(body).slice(0, 20)]) {
      expect((await app(r.publish, r.secretsFor).inject(post(body, signature))).statusCode).toBe(401);
    }
    expect(r.asked).toEqual([]);
    expect((await app(r.publish, r.secretsFor).inject(post(body, sign(body)))).statusCode).toBe(200);
    expect(r.asked).toHaveLength(3);
  });

  it('checks a body naming more than 20 business numbers with the app secret alone, and parks it', async () => {
    const r = recorder();
    const body = naming(21);
    expect((await app(r.publish, r.secretsFor).inject(post(body, sign(body, 'a-channel-secret')))).statusCode).toBe(
      401,
    );
    const res = await app(r.publish, r.secretsFor).inject(post(body, sign(body)));
    expect(res.statusCode).toBe(200);
    expect(r.asked).toEqual([]);
    expect(r.published.map((p) => p.routingKey)).toEqual(['parked.whatsapp']);
    expect(r.published[0]?.data).toMatchObject({ reason: expect.stringMatching(/^too_many_accounts/), body });
    // Twenty are looked up, one each.
    const twenty = naming(20);
    expect((await app(r.publish, r.secretsFor).inject(post(twenty, sign(twenty)))).statusCode).toBe(200);
    expect(r.asked).toHaveLength(20);
  });

  it('answers 400 invalid_content_length when Content-Length does not match the body, publishing nothing', async () => {
    const r = recorder();
    const body = naming(1);
    for (const length of [String(body.length + 5), String(body.length - 5)]) {
      const req = post(body, sign(body));
      const res = await app(r.publish, r.secretsFor).inject({
        ...req,
        headers: { ...req.headers, 'content-length': length },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_content_length' });
    }
    expect(r.published).toEqual([]);
  });

  it('refuses to start in production without real secrets', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/WHATSAPP_APP_SECRET: required in production/);
  });

  it('names the variable that does not parse', () => {
    expect(() => loadConfig({ INGEST_PORT: 'eighty' })).toThrow(/INGEST_PORT/);
  });
});

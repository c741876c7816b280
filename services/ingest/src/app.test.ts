import { createLogger, type PublishInbound, signHmacSha256 } from '@switchboard/platform';
import { describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createMetrics } from './metrics.ts';

/** The app with a recording publish port; broker behaviour itself is covered by the integration tests. */
function app(publish: PublishInbound = async () => undefined) {
  return buildApp({
    config: loadConfig({ NODE_ENV: 'test' }),
    logger: createLogger('ingest', 'silent'),
    metrics: createMetrics(),
    publish,
    checks: {},
  });
}

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

  it('refuses to start in production without real secrets', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/WHATSAPP_APP_SECRET: required in production/);
  });

  it('names the variable that does not parse', () => {
    expect(() => loadConfig({ INGEST_PORT: 'eighty' })).toThrow(/INGEST_PORT/);
  });
});

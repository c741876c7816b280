import { randomUUID } from 'node:crypto';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  clearOfWindowEnd,
  helpdeskEvent,
  peekQueue,
  queueDepth,
  signedHelpdesk,
  signedWhatsApp,
  whatsappEnvelope,
  whatsappFixturePayload,
  whatsappFixtures,
  whatsappText,
} from '@switchboard/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { genesysAgentText, genesysTyping, signedGenesys } from '../fixtures/genesys.ts';

type Edge = Pipeline['ingest'] | Pipeline['webhooks'];
/** Confirmed publishes of an edge so far: a rejected request must not add any. */
const published = async (edge: Edge) =>
  (await edge.metrics.publisher.published.get()).values.reduce((s, v) => s + v.value, 0);

const withHeaders = (req: { body: string; headers: Record<string, string> }, headers: Record<string, string>) => ({
  body: req.body,
  headers: { ...req.headers, ...headers },
});

/** One webhook with a status change for each of these business numbers, in this order. */
const naming = (...accounts: string[]) => {
  const body = whatsappEnvelope({});
  (body.entry[0] as { changes: unknown[] }).changes = accounts.map((a) => ({
    field: 'messages',
    value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550783881', phone_number_id: a },
      statuses: [{ id: `wamid.multi-${randomUUID()}`, status: 'sent', timestamp: '1700000000' }],
    },
  }));
  return signedWhatsApp(body);
};

describe('edge limits: 413, 415 and the per-channel rate limit (429 + Retry-After)', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline({
      env: {
        RATE_LIMIT_PER_CHANNEL: '3',
        RATE_LIMIT_WINDOW_MS: '60000',
        WHATSAPP_BODY_LIMIT_BYTES: '8192',
        HELPDESK_BODY_LIMIT_BYTES: '2048',
        GENESYS_BODY_LIMIT_BYTES: '4096',
      },
    });
  });
  // Each test's requests in one rate-limit window (60 s, aligned to the epoch).
  beforeEach(() => clearOfWindowEnd(60_000));
  afterAll(async () => {
    await p.stop();
  });

  it('answers 413 over a route limit and 415 for a wrong content type, publishing nothing', async () => {
    const before = await published(p.ingest);
    const big = signedWhatsApp(whatsappText({ from: '16315551181', id: 'wamid.big', text: 'x'.repeat(10_000) }));
    expect((await p.post('/webhooks/whatsapp', big)).status).toBe(413);
    const plain = signedWhatsApp(whatsappText({ from: '16315551181', id: 'wamid.plain', text: 'hi' }));
    expect((await p.post('/webhooks/whatsapp', withHeaders(plain, { 'content-type': 'text/plain' }))).status).toBe(415);
    expect(await published(p.ingest)).toBe(before);

    const hdBefore = await published(p.webhooks);
    const bigTicket = signedHelpdesk(
      helpdeskEvent('ticket.created', { ticketId: 'T', conversationId: randomUUID(), subject: 'x'.repeat(4000) }),
    );
    expect((await p.postWebhooks('/webhooks/helpdesk', bigTicket)).status).toBe(413);
    const formTicket = signedHelpdesk(helpdeskEvent('ticket.created', { ticketId: 'T', conversationId: randomUUID() }));
    const form = withHeaders(formTicket, { 'content-type': 'application/x-www-form-urlencoded' });
    expect((await p.postWebhooks('/webhooks/helpdesk', form)).status).toBe(415);
    expect(await published(p.webhooks)).toBe(hdBefore);
  });

  it('Genesys: 413 over its limit, 415 for anything but JSON, publishing nothing', async () => {
    const before = await published(p.webhooks);
    const big = signedGenesys(genesysAgentText({ id: 'gm-big', to: '16315551181', text: 'x'.repeat(5000) }));
    const res = await p.postWebhooks('/webhooks/genesys', big);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: 'payload_too_large' });
    const text = signedGenesys(genesysAgentText({ id: 'gm-ct', to: '16315551181', text: 'hi' }));
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const r = await p.postWebhooks('/webhooks/genesys', withHeaders(text, { 'content-type': contentType }));
      expect(r.status, contentType).toBe(415);
      expect(await r.json()).toMatchObject({ error: 'unsupported_media_type' });
    }
    expect(await published(p.webhooks)).toBe(before);
  });

  it('refuses a channel over its budget with 429 and Retry-After, publishing nothing for it', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const req = signedWhatsApp(whatsappText({ from: '16315551181', id: `wamid.rl-${i}`, text: 'hi' }));
      statuses.push((await p.post('/webhooks/whatsapp', req)).status);
    }
    expect(statuses).toEqual([200, 200, 200]);
    const before = await published(p.ingest);
    const over = await p.post(
      '/webhooks/whatsapp',
      signedWhatsApp(whatsappText({ from: '16315551181', id: 'wamid.rl-over', text: 'hi' })),
    );
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(over.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await published(p.ingest)).toBe(before);
    // Another channel has its own budget.
    const other = await p.post(
      '/webhooks/whatsapp',
      signedWhatsApp(whatsappFixturePayload(whatsappFixtures[0]?.value ?? {}, '999000111')),
    );
    expect(other.status).toBe(200);
  });

  it('a batch refused for one number spends nothing from the others it names', async () => {
    const [a, b] = ['555000001', '555000002'];
    for (let i = 0; i < 3; i++) expect((await p.post('/webhooks/whatsapp', naming(b))).status).toBe(200);
    const before = await published(p.ingest);
    // b is spent; a comes first in the body and must not pay for the refused request.
    const refused = await p.post('/webhooks/whatsapp', naming(a, b));
    expect(refused.status).toBe(429);
    expect(await published(p.ingest)).toBe(before);
    const alone = [];
    for (let i = 0; i < 4; i++) alone.push((await p.post('/webhooks/whatsapp', naming(a))).status);
    expect(alone).toEqual([200, 200, 200, 429]);
  });

  it('limits the webhooks edge per channel too: helpdesk', async () => {
    const post = () =>
      p.postWebhooks(
        '/webhooks/helpdesk',
        signedHelpdesk(helpdeskEvent('ticket.created', { ticketId: randomUUID(), conversationId: randomUUID() })),
      );
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post()).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('Genesys: 429 with Retry-After once the integration spent its budget, publishing nothing', async () => {
    const post = (id: string) =>
      p.postWebhooks('/webhooks/genesys', signedGenesys(genesysAgentText({ id, to: '16315551181', text: 'hi' })));
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(`gm-rl-${i}`)).status);
    expect(statuses).toEqual([200, 200, 200]);
    const before = await published(p.webhooks);
    const over = await post('gm-rl-over');
    expect(over.status).toBe(429);
    expect(await over.json()).toMatchObject({ error: 'rate_limited' });
    const retryAfter = Number(over.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await published(p.webhooks)).toBe(before);
    // Typing indicators store nothing and are not limited.
    const typing = await p.postWebhooks('/webhooks/genesys', signedGenesys(genesysTyping({ id: 'gt-1', to: '1' })));
    expect(typing.status).toBe(200);
  });

  it('Genesys: a signed body that is not JSON is parked whole and counted; unsigned, 401', async () => {
    const body = '{"id":"gm-cut","channel":{"id":"dev-genesys-integration","time":';
    const queued = await queueDepth(p.names.parked);
    const unsigned = await p.postWebhooks('/webhooks/genesys', signedGenesys(body, 'wrong'));
    expect(unsigned.status).toBe(401);
    const res = await p.postWebhooks('/webhooks/genesys', signedGenesys(body));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'parked', reason: expect.stringMatching(/^malformed_json/) });
    await expect.poll(() => queueDepth(p.names.parked), { timeout: 10_000 }).toBe(queued + 1);
    const parked = (await peekQueue(p.names.parked)).find((r) => r.routingKey === 'parked.genesys');
    expect(parked?.event.data).toMatchObject({ provider: 'genesys', body, contentType: 'application/json' });
    const counted = (await p.webhooks.metrics.parked.get()).values;
    expect(counted).toEqual([expect.objectContaining({ labels: { provider: 'genesys' }, value: 1 })]);
  });
});

import { randomUUID } from 'node:crypto';
import { signHmacSha256, signTimestamped } from '@switchboard/platform';
import {
  DEV_HELPDESK_SECRET,
  DEV_WHATSAPP_SECRET,
  helpdeskEvent,
  type Pipeline,
  signedHelpdesk,
  signedWhatsApp,
  startPipeline,
  whatsappFixturePayload,
  whatsappFixtures,
  whatsappText,
} from '@switchboard/testing';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Confirmed publishes of an edge so far: a rejected request must not add any. */
const published = async (edge: {
  metrics: { publisher: { published: { get(): Promise<{ values: Array<{ value: number }> }> } } };
}) => (await edge.metrics.publisher.published.get()).values.reduce((s, v) => s + v.value, 0);

describe('edge limits: 413, 415 and the per-channel rate limit (429 + Retry-After)', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline({
      env: {
        RATE_LIMIT_PER_CHANNEL: '3',
        RATE_LIMIT_WINDOW_MS: '60000',
        WHATSAPP_BODY_LIMIT_BYTES: '8192',
        HELPDESK_BODY_LIMIT_BYTES: '2048',
      },
    });
  });
  afterAll(async () => {
    await p.stop();
  });

  it('answers 413 over a route limit and 415 for a wrong content type, publishing nothing', async () => {
    const before = await published(p.ingest);
    const big = signedWhatsApp(whatsappText({ from: '16315551181', id: 'wamid.big', text: 'x'.repeat(10_000) }));
    expect((await p.post('/webhooks/whatsapp', big)).status).toBe(413);
    const plain = signedWhatsApp(whatsappText({ from: '16315551181', id: 'wamid.plain', text: 'hi' }));
    expect(
      (
        await p.post('/webhooks/whatsapp', {
          body: plain.body,
          headers: { ...plain.headers, 'content-type': 'text/plain' },
        })
      ).status,
    ).toBe(415);
    expect(await published(p.ingest)).toBe(before);

    const hdBefore = await published(p.webhooks);
    const bigTicket = signedHelpdesk(
      helpdeskEvent('ticket.created', { ticketId: 'T', conversationId: randomUUID(), subject: 'x'.repeat(4000) }),
    );
    expect((await p.postWebhooks('/webhooks/helpdesk', bigTicket)).status).toBe(413);
    const formTicket = signedHelpdesk(helpdeskEvent('ticket.created', { ticketId: 'T', conversationId: randomUUID() }));
    const res = await p.postWebhooks('/webhooks/helpdesk', {
      body: formTicket.body,
      headers: { ...formTicket.headers, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(415);
    expect(await published(p.webhooks)).toBe(hdBefore);
  });

  it('refuses a channel over its budget with 429 and Retry-After, publishing nothing for it', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(
        (
          await p.post(
            '/webhooks/whatsapp',
            signedWhatsApp(whatsappText({ from: '16315551181', id: `wamid.rl-${i}`, text: 'hi' })),
          )
        ).status,
      );
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

  it('limits the webhooks edge per channel too', async () => {
    const post = () =>
      p.postWebhooks(
        '/webhooks/helpdesk',
        signedHelpdesk(helpdeskEvent('ticket.created', { ticketId: randomUUID(), conversationId: randomUUID() })),
      );
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post()).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

/**
 * Thousands of malformed or mutated requests against both edges with the broker up: never a 5xx,
 * never a crash, and nothing published for any request that was not answered 200.
 */
describe('fuzz: malformed and mutated bodies and headers', () => {
  let p: Pipeline;
  beforeAll(async () => {
    // No worker: the edges alone, so the run measures them (their queues still exist and take the events).
    p = await startPipeline({ worker: false, env: { RATE_LIMIT_PER_CHANNEL: '0' } });
  });
  afterAll(async () => {
    await p.stop();
  });

  const contentTypes = [
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/xml',
    '',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
  ];
  const seeds = whatsappFixtures.map((f) => JSON.stringify(whatsappFixturePayload(f.value)));

  /** A body: a mutated real payload, random JSON, or random bytes. */
  const body = fc.oneof(
    fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(), fc.string({ maxLength: 20 })).map(([s, a, b, insert]) => {
      const i = a % (s.length + 1);
      const j = Math.min(s.length, i + (b % 40));
      return s.slice(0, i) + insert + s.slice(j);
    }),
    fc.json({ maxDepth: 4 }),
    fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u).toString('latin1')),
    fc.constantFrom(
      '',
      'null',
      '[]',
      '{}',
      '{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":1}}}]}]}',
    ),
  );

  async function run(
    app: FastifyInstance,
    edge: Parameters<typeof published>[0],
    url: string,
    sign: (b: string) => Record<string, string>,
    runs: number,
  ) {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.constantFrom(...contentTypes),
        fc.constantFrom('signed', 'unsigned', 'garbage'),
        fc.string({ maxLength: 80 }),
        async (payload, contentType, mode, garbage) => {
          const before = await published(edge);
          const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
          if (mode === 'signed') Object.assign(headers, sign(payload));
          if (mode === 'garbage')
            Object.assign(headers, {
              'x-hub-signature-256': garbage,
              'x-signature-256': garbage,
              'x-timestamp': garbage,
            });
          const res = await app.inject({ method: 'POST', url, headers, payload });
          seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
          expect(res.statusCode, res.body).toBeLessThan(500);
          if (res.statusCode !== 200) expect(await published(edge)).toBe(before);
        },
      ),
      { numRuns: runs },
    );
    return seen;
  }

  it('ingest: 2,000 requests to POST /webhooks/whatsapp', async () => {
    const seen = await run(
      p.ingest.app,
      p.ingest,
      '/webhooks/whatsapp',
      (b) => ({ 'x-hub-signature-256': signHmacSha256(b, DEV_WHATSAPP_SECRET, 'hex') }),
      2000,
    );
    // The run reached every kind of answer, including accepted (parked or normalized) ones.
    expect([...seen.keys()].sort()).toEqual(expect.arrayContaining([200, 401, 415]));
    expect((await fetch(`${p.ingestUrl}/readyz`)).status).toBe(200);
  }, 120_000);

  it('webhooks: 1,000 requests to POST /webhooks/helpdesk', async () => {
    const seen = await run(
      p.webhooks.app,
      p.webhooks,
      '/webhooks/helpdesk',
      (b) => {
        const ts = String(Math.floor(Date.now() / 1000));
        return { 'x-timestamp': ts, 'x-signature-256': signTimestamped(b, DEV_HELPDESK_SECRET, ts) };
      },
      1000,
    );
    expect([...seen.keys()].sort()).toEqual(expect.arrayContaining([400, 401, 415]));
    expect((await fetch(`${p.webhooksUrl}/readyz`)).status).toBe(200);
  }, 120_000);
});

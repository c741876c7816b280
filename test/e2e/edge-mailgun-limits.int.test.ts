import { randomUUID } from 'node:crypto';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  clearOfWindowEnd,
  deliveredEventData,
  inboundFields,
  inboundUrlencoded,
  mailgunEventBody,
  mailgunSignature,
} from '@switchboard/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

type Signature = ReturnType<typeof mailgunSignature>;

/** Confirmed publishes of the ingest edge so far: a refused request must not add any. */
const published = async (p: Pipeline) =>
  (await p.ingest.metrics.publisher.published.get()).values.reduce((s, v) => s + v.value, 0);

/** A forward of a new email to `lead@<domain>`: its channel is the recipient's domain. */
const forwardOf = (domain: string, sig: Signature = mailgunSignature()) =>
  inboundUrlencoded(inboundFields({ recipient: `lead@${domain}`, 'Message-Id': `<${randomUUID()}@example.org>` }), sig);
const forward = (p: Pipeline, domain: string, sig?: Signature) =>
  p.post('/webhooks/mailgun/inbound', forwardOf(domain, sig));

/** A delivered event for an email sent from `<domain>`: its channel is the sending domain. */
const event = (p: Pipeline, domain: string, sig: Signature = mailgunSignature()) =>
  p.post(
    '/webhooks/mailgun/events',
    mailgunEventBody(deliveredEventData({ id: randomUUID(), envelope: { sender: `bounces@${domain}` } }), sig),
  );

async function statuses(requests: Array<() => Promise<Response>>): Promise<number[]> {
  const out: number[] = [];
  for (const request of requests) out.push((await request()).status);
  return out;
}

describe('Mailgun: the per-domain rate limit (429 + Retry-After)', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline({ env: { RATE_LIMIT_PER_CHANNEL: '3', RATE_LIMIT_WINDOW_MS: '60000' } });
  });
  // Each test's requests in one rate-limit window (60 s, aligned to the epoch).
  beforeEach(() => clearOfWindowEnd(60_000));
  afterAll(async () => {
    await p.stop();
  });

  it("a domain's forwards and events share its budget: accepted under it, 429 over it, nothing published", async () => {
    const domain = 'mg.example.com'; // the dev tenant's Mailgun channel
    const before = await published(p);
    const under = [() => forward(p, domain), () => event(p, domain), () => forward(p, domain)];
    expect(await statuses(under)).toEqual([200, 200, 200]);
    expect(await published(p)).toBe(before + 3);

    for (const over of [await event(p, domain), await forward(p, domain)]) {
      // 429, never 406: Mailgun drops a 406 for good, and retries anything else.
      expect(over.status).toBe(429);
      expect(await over.json()).toMatchObject({ error: 'rate_limited' });
      const retryAfter = Number(over.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    expect(await published(p)).toBe(before + 3);
  });

  it("one domain's flood does not limit another domain", async () => {
    const before = await published(p);
    const flood = Array.from({ length: 10 }, (_, i) =>
      i % 2 ? () => event(p, 'mg.flood.test') : () => forward(p, 'mg.flood.test'),
    );
    expect(await statuses(flood)).toEqual([200, 200, 200, ...Array(7).fill(429)]);
    const quiet = [() => forward(p, 'mg.quiet.test'), () => event(p, 'mg.quiet.test')];
    expect(await statuses(quiet)).toEqual([200, 200]);
    expect(await published(p)).toBe(before + 5);
  });

  it("a request whose signature fails spends nothing of the domain's budget", async () => {
    const forged = Array.from({ length: 5 }, (_, i) =>
      i % 2
        ? () => event(p, 'mg.forged.test', mailgunSignature('not-the-key'))
        : () => forward(p, 'mg.forged.test', mailgunSignature('not-the-key')),
    );
    expect(await statuses(forged)).toEqual(Array(5).fill(401));
    const signed = Array.from({ length: 4 }, () => () => event(p, 'mg.forged.test'));
    expect(await statuses(signed)).toEqual([200, 200, 200, 429]);
  });
});

describe('Mailgun: a request refused with 429 keeps its token', () => {
  let p: Pipeline;
  beforeAll(async () => {
    // One request per domain per second: the test waits for a window to end, so it must be short.
    p = await startPipeline({ env: { RATE_LIMIT_PER_CHANNEL: '1', RATE_LIMIT_WINDOW_MS: '1000' } });
  });
  afterAll(async () => {
    await p.stop();
  });

  it("Mailgun's retry of the refused forward is accepted once the window ends, and only once", async () => {
    const domain = 'mg.retry.test';
    // Spend the window's one request, then send the forward that gets the 429. A window may end
    // between the two; then the pair is tried again, a few times at most.
    let refused: { req: ReturnType<typeof forwardOf>; at: number } | undefined;
    for (let i = 0; i < 5 && !refused; i++) {
      await forward(p, domain);
      const req = forwardOf(domain);
      const before = await published(p);
      if ((await p.post('/webhooks/mailgun/inbound', req)).status === 429) refused = { req, at: before };
    }
    expect(refused).toBeDefined();
    const { req, at } = refused as NonNullable<typeof refused>;
    expect(await published(p)).toBe(at);
    const resend = async () => (await p.post('/webhooks/mailgun/inbound', req)).status;

    // The same forward, byte for byte, as Mailgun retries it: accepted once the domain has budget again.
    await expect.poll(resend, { timeout: 10_000, interval: 200 }).toBe(200);
    expect(await published(p)).toBe(at + 1);
    // Now its token is taken: sent again it is a replay (406), once the budget lets it be checked.
    await expect.poll(resend, { timeout: 10_000, interval: 200 }).toBe(406);
    expect(await published(p)).toBe(at + 1);
  });
});

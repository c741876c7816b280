import { setTimeout as sleep } from 'node:timers/promises';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { collectEvents, deliveredEventData, mailgunEventBody, mailgunSignature } from '@switchboard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, stopRedis } from './support.ts';

let p: Pipeline;
afterEach(async () => {
  startRedis();
  await p?.stop();
});

describe('the ingest edge while Redis is down', () => {
  it('answers 503 to Mailgun (the token cache cannot be consulted), publishes nothing, and accepts the re-signed retry once Redis is back', async () => {
    p = await startPipeline({ worker: false });
    const inbound = await collectEvents(p.names.inbound, 'mailgun.#');
    try {
      const sig = mailgunSignature();
      const req = mailgunEventBody({ ...deliveredEventData(), timestamp: Date.now() / 1000 }, sig);
      // Past the second it was signed in: the cache compares whole seconds with its restart.
      await expect.poll(() => Math.floor(Date.now() / 1000), { interval: 50 }).toBeGreaterThan(Number(sig.timestamp));
      stopRedis();
      const during = await p.post('/webhooks/mailgun/events', req);
      expect(during.status).toBe(503);
      expect((await fetch(`${p.ingestUrl}/readyz`)).status).toBe(503);

      startRedis();
      // Mailgun signs each retry afresh (its retries come later than the signature window).
      // Each attempt signed now: one signed before the edge saw Redis back would be refused too.
      let retry = req;
      const resign = () => {
        retry = mailgunEventBody({ ...deliveredEventData(), timestamp: Date.now() / 1000 }, mailgunSignature());
        return retry;
      };
      await expect
        .poll(async () => (await p.post('/webhooks/mailgun/events', resign())).status, {
          timeout: 30_000,
          interval: 250,
        })
        .toBe(200);
      // The same token again: Mailgun is told not to retry.
      expect((await p.post('/webhooks/mailgun/events', retry)).status).toBe(406);
      // Signed before Redis lost its tokens: it cannot be told from a replay, so it is refused.
      expect((await p.post('/webhooks/mailgun/events', req)).status).toBe(503);
      await sleep(300);
      expect(inbound.received).toHaveLength(1);
    } finally {
      await inbound.close();
    }
  });
});

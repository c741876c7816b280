import { setTimeout as sleep } from 'node:timers/promises';
import {
  collectEvents,
  deliveredEventData,
  mailgunEventBody,
  mailgunSignature,
  type Pipeline,
  startPipeline,
} from '@switchboard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, stopRedis } from './support.ts';

let p: Pipeline;
afterEach(async () => {
  startRedis();
  await p?.stop();
});

describe('the ingest edge while Redis is down', () => {
  it('answers 503 to Mailgun (the token cache cannot be consulted), publishes nothing, and accepts the retry once Redis is back', async () => {
    p = await startPipeline({ worker: false });
    const inbound = await collectEvents(p.names.inbound, 'mailgun.#');
    try {
      const req = mailgunEventBody({ ...deliveredEventData(), timestamp: Date.now() / 1000 }, mailgunSignature());
      stopRedis();
      const during = await p.post('/webhooks/mailgun/events', req);
      expect(during.status).toBe(503);
      expect((await fetch(`${p.ingestUrl}/readyz`)).status).toBe(503);

      startRedis();
      await expect
        .poll(async () => (await p.post('/webhooks/mailgun/events', req)).status, { timeout: 30_000, interval: 250 })
        .toBe(200);
      // The same token again: Mailgun is told not to retry.
      expect((await p.post('/webhooks/mailgun/events', req)).status).toBe(406);
      await sleep(300);
      expect(inbound.received).toHaveLength(1);
    } finally {
      await inbound.close();
    }
  });
});

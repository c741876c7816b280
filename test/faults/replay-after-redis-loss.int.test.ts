import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  collectEvents,
  deliveredEventData,
  failedPermanentEventData,
  helpdeskEvent,
  mailgunEventBody,
  mailgunSignature,
  signedHelpdesk,
} from '@switchboard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, stopRedis } from './support.ts';

/**
 * Redis restarted without persistence forgets every claimed token and signature. Mailgun signs
 * only timestamp + token, so a captured token could carry a forged body within its window; the
 * replay cache's up-since marker makes anything signed before the loss unusable.
 */
let p: Pipeline;
afterEach(async () => {
  startRedis();
  await p?.stop();
});

const replayRefusedAfterLoss = async (edge: Pipeline['ingest'] | Pipeline['webhooks']) =>
  (await edge.metrics.replay.refusedAfterLoss.get()).values.reduce((s, v) => s + v.value, 0);

/**
 * Restarts Redis (its keys gone) once the clock is past the second `signedAt` names (the cache
 * compares whole seconds), and waits until the edge's client is back.
 */
async function restartRedis(url: string, signedAt: number) {
  await expect.poll(() => Math.floor(Date.now() / 1000), { timeout: 2_000, interval: 50 }).toBeGreaterThan(signedAt);
  stopRedis();
  startRedis();
  await expect.poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 30_000, interval: 100 }).toBe(200);
}

describe('replay protection across a Redis restart', () => {
  it('refuses a Mailgun token accepted before the restart when it comes back with another body', async () => {
    p = await startPipeline({ worker: false });
    const inbound = await collectEvents(p.names.inbound, 'mailgun.#');
    try {
      const sig = mailgunSignature();
      const delivered = mailgunEventBody(deliveredEventData({ timestamp: Date.now() / 1000 }), sig);
      expect((await p.post('/webhooks/mailgun/events', delivered)).status).toBe(200);
      await expect.poll(() => inbound.received.length, { timeout: 10_000 }).toBe(1);

      await restartRedis(p.ingestUrl, Number(sig.timestamp));
      // The captured token, its signature still valid, now carrying a permanent failure.
      const forged = mailgunEventBody(failedPermanentEventData({ timestamp: Date.now() / 1000 }), sig);
      const res = await p.post('/webhooks/mailgun/events', forged);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'unavailable', message: expect.stringMatching(/since/) });
      expect(await replayRefusedAfterLoss(p.ingest)).toBe(1);

      // A request signed after the restart (as Mailgun's retries are) is accepted; nothing else was published.
      const fresh = mailgunEventBody(deliveredEventData({ timestamp: Date.now() / 1000 }), mailgunSignature());
      await expect.poll(async () => (await p.post('/webhooks/mailgun/events', fresh)).status).not.toBe(503);
      await expect.poll(() => inbound.received.length, { timeout: 10_000 }).toBe(2);
      expect(inbound.received.map((r) => (r.event.data as { event: string }).event)).toEqual([
        'delivered',
        'delivered',
      ]);
    } finally {
      await inbound.close();
    }
  });

  it('refuses an exact helpdesk replay after the restart', async () => {
    p = await startPipeline({ worker: false });
    const inbound = await collectEvents(p.names.inbound, 'helpdesk.#');
    try {
      const req = signedHelpdesk(
        helpdeskEvent('ticket.status_changed', {
          ticketId: 'T-1',
          conversationId: '0b6f7c52-3a53-4f5e-9a39-6f2f0a6b7d10',
          status: 'open',
        }),
      );
      expect((await p.postWebhooks('/webhooks/helpdesk', req)).status).toBe(200);
      await restartRedis(p.webhooksUrl, Number(req.headers['x-timestamp']));
      expect((await p.postWebhooks('/webhooks/helpdesk', req)).status).toBe(503);
      expect(await replayRefusedAfterLoss(p.webhooks)).toBe(1);
      await expect.poll(() => inbound.received.length, { timeout: 10_000 }).toBe(1);
    } finally {
      await inbound.close();
    }
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { agentDeskEvent, collectEvents, signedAgentDesk } from '@switchboard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, stopRedis } from './support.ts';

let p: Pipeline;
afterEach(async () => {
  startRedis();
  await p?.stop();
});

describe('the webhooks edge while Redis is down', () => {
  it('answers 503 (the replay cache cannot be consulted), publishes nothing, and accepts the re-signed retry once Redis is back', async () => {
    p = await startPipeline({ worker: false });
    const inbound = await collectEvents(p.names.inbound, 'agentdesk.#');
    try {
      const event = agentDeskEvent('operator.status_changed', { operatorId: 'op-1', status: 'online' });
      const req = signedAgentDesk(event);
      // Past the second it was signed in: the replay cache compares whole seconds with its restart.
      const signedAt = Number(req.headers['x-timestamp']);
      await expect.poll(() => Math.floor(Date.now() / 1000), { interval: 50 }).toBeGreaterThan(signedAt);
      stopRedis();
      const during = await p.postWebhooks('/webhooks/agent-desk', req);
      expect(during.status).toBe(503);
      expect(during.headers.get('retry-after')).toBe('5');
      expect((await p.postWebhooks('/webhooks/agent-desk', req)).status).toBe(503);
      const ready = await fetch(`${p.webhooksUrl}/readyz`);
      expect(ready.status).toBe(503);

      startRedis();
      // ioredis reconnects by itself. Redis restarted empty, so the request signed before it cannot
      // be told from a replay (503); the sender's retry, signed again, goes through once.
      // Each attempt signed now: one signed before the edge saw Redis back would be refused too.
      let retry = req;
      const resign = () => {
        retry = signedAgentDesk(event);
        return retry;
      };
      await expect
        .poll(async () => (await p.postWebhooks('/webhooks/agent-desk', resign())).status, {
          timeout: 30_000,
          interval: 250,
        })
        .toBe(200);
      expect((await p.postWebhooks('/webhooks/agent-desk', retry)).status).toBe(401);
      expect((await p.postWebhooks('/webhooks/agent-desk', req)).status).toBe(503);
      await sleep(300);
      expect(inbound.received).toHaveLength(1);
    } finally {
      await inbound.close();
    }
  });
});

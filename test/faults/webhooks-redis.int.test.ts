import { setTimeout as sleep } from 'node:timers/promises';
import { agentDeskEvent, collectEvents, type Pipeline, signedAgentDesk, startPipeline } from '@switchboard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, stopRedis } from './support.ts';

let p: Pipeline;
afterEach(async () => {
  startRedis();
  await p?.stop();
});

describe('the webhooks edge while Redis is down', () => {
  it('answers 503 (the replay cache cannot be consulted), publishes nothing, and accepts the retry once Redis is back', async () => {
    p = await startPipeline({ worker: false });
    const inbound = await collectEvents(p.names.inbound, 'agentdesk.#');
    try {
      const req = signedAgentDesk(agentDeskEvent('operator.status_changed', { operatorId: 'op-1', status: 'online' }));
      stopRedis();
      const during = await p.postWebhooks('/webhooks/agent-desk', req);
      expect(during.status).toBe(503);
      expect(during.headers.get('retry-after')).toBe('5');
      expect((await p.postWebhooks('/webhooks/agent-desk', req)).status).toBe(503);
      const ready = await fetch(`${p.webhooksUrl}/readyz`);
      expect(ready.status).toBe(503);

      startRedis();
      // ioredis reconnects by itself; the sender's retry of the very same request goes through once.
      await expect
        .poll(async () => (await p.postWebhooks('/webhooks/agent-desk', req)).status, {
          timeout: 30_000,
          interval: 250,
        })
        .toBe(200);
      expect((await p.postWebhooks('/webhooks/agent-desk', req)).status).toBe(401);
      await sleep(300);
      expect(inbound.received).toHaveLength(1);
    } finally {
      await inbound.close();
    }
  });
});

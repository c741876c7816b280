import { randomUUID } from 'node:crypto';
import { Redis } from '@switchboard/platform';
import { testUrls } from '@switchboard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareSeq } from './event-log.ts';
import type { Realtime } from './service.ts';
import { type Client, connectClient, startGatewayKit, TENANT_A, TENANT_B, urlOf } from './test-kit.ts';

type Kit = Awaited<ReturnType<typeof startGatewayKit>>;
let kit: Kit;
const clients: Client[] = [];
const connect = async (base: string, token: string) => {
  const c = await connectClient(base, token);
  clients.push(c);
  return c;
};

const statusChanged = (conversationId: string, version: number) => ({
  conversationId,
  previousStatus: 'open',
  status: 'active',
  source: 'agent',
  syncedFrom: null,
  causeEventId: randomUUID(),
  version,
  at: new Date().toISOString(),
});

const liveMessages = async (r: Realtime) => (await r.metrics.liveMessages.get()).values[0]?.value ?? 0;

beforeEach(async () => {
  kit = await startGatewayKit();
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await kit.stop();
});

describe('live feed: a replica reads only what its clients subscribe to', () => {
  it('takes no message of a conversation, or of a tenant, none of its clients subscribes to', async () => {
    const [r1, r2] = [await kit.replica(), await kit.replica()];
    const [mine, theirs] = [randomUUID(), randomUUID()];
    const a1 = await connect(urlOf(r1), TENANT_A.token);
    const a2 = await connect(urlOf(r2), TENANT_A.token);
    await a1.subscribe([`conversation:${theirs}`]);
    await a2.subscribe([`conversation:${mine}`]);
    expect(r2.gateway.feed.channels).toBe(1);
    for (let v = 1; v <= 5; v++)
      await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(theirs, v));
    // Tenant B's event on the same conversation id goes to B's channel, which nobody holds.
    await kit.publish(TENANT_B.tenantId, 'conversation.status.changed', statusChanged(mine, 1));
    const last = await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(mine, 1));
    await expect.poll(() => a2.events().length, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => a1.events().length, { timeout: 10_000 }).toBe(5);
    expect(a2.events()[0]?.id).toBe(last.id);
    expect(await liveMessages(r2)).toBe(1);
    expect(await liveMessages(r1)).toBe(5);
  });

  it('leaves a channel when its last client goes, and takes it again for the next one', async () => {
    const r = await kit.replica();
    const conv = randomUUID();
    const first = await connect(urlOf(r), TENANT_A.token);
    await first.subscribe([`conversation:${conv}`, 'conversation_states']);
    expect(r.gateway.feed.channels).toBe(2);
    first.send({ type: 'unsubscribe', topics: ['conversation_states'] });
    await expect.poll(() => r.gateway.feed.channels).toBe(1);
    await first.close();
    await expect.poll(() => r.gateway.feed.channels).toBe(0);
    const next = await connect(urlOf(r), TENANT_A.token);
    await next.subscribe([`conversation:${conv}`]);
    const ev = await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(conv, 1));
    await expect.poll(() => next.events().map((e) => e.id), { timeout: 10_000 }).toEqual([ev.id]);
  });

  it('resumes onto a channel the replica did not hold while events keep coming: no gap, no duplicate', async () => {
    const [r1, r2] = [await kit.replica(), await kit.replica()];
    const conv = randomUUID();
    const watcher = await connect(urlOf(r1), TENANT_A.token);
    await watcher.subscribe([`conversation:${conv}`]);
    const first = await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(conv, 1));
    const publishing = (async () => {
      const ids: string[] = [];
      for (let v = 2; v <= 41; v++) {
        ids.push((await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(conv, v))).id);
      }
      return ids;
    })();
    // r2 holds no channel of this conversation until this client resumes there, mid-stream.
    await expect.poll(() => watcher.events().length, { timeout: 10_000 }).toBeGreaterThan(3);
    expect(r2.gateway.feed.channels).toBe(0);
    const resumed = await connect(urlOf(r2), TENANT_A.token);
    const answer = await resumed.subscribe([`conversation:${conv}`], { lastEventId: first.id });
    expect(answer.type).toBe('subscribed');
    const ids = await publishing;
    await expect.poll(() => resumed.events().length, { timeout: 15_000 }).toBe(40);
    const got = resumed.events();
    expect(new Set(got.map((e) => e.id))).toEqual(new Set(ids));
    // In the log's order (competing consumers may append two events in either order).
    const seqs = got.map((e) => e.seq as string);
    expect([...seqs].sort(compareSeq)).toEqual(seqs);
    await expect.poll(() => watcher.events().length, { timeout: 10_000 }).toBe(41);
    expect(watcher.events().map((e) => e.id)).toEqual([first.id, ...got.map((e) => e.id)]);
  });

  it('closes its clients with 4009 when its live feed connection drops, and they resume from the log', async () => {
    const r = await kit.replica();
    const conv = randomUUID();
    const c = await connect(urlOf(r), TENANT_A.token);
    await c.subscribe([`conversation:${conv}`]);
    const e1 = await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(conv, 1));
    await expect.poll(() => c.events().length, { timeout: 10_000 }).toBe(1);
    // Redis cuts the replica's subscriber connection (as it does past the pub/sub buffer limit).
    const admin = new Redis(testUrls.redis);
    try {
      const port = r.subscriber.stream.localPort;
      const line = String(await admin.client('LIST'))
        .split('\n')
        .find((l: string) => l.includes(` addr=127.0.0.1:${port} `));
      const id = /(?:^|\s)id=(\d+)/.exec(line ?? '')?.[1];
      expect(id).toBeDefined();
      await admin.client('KILL', 'ID', id as string);
    } finally {
      admin.disconnect();
    }
    await expect.poll(() => c.closed()?.code, { timeout: 10_000 }).toBe(4009);
    const e2 = await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(conv, 2));
    await expect.poll(() => r.subscriber.status, { timeout: 10_000 }).toBe('ready');
    const again = await connect(urlOf(r), TENANT_A.token);
    expect((await again.subscribe([`conversation:${conv}`], { lastEventId: e1.id })).type).toBe('subscribed');
    const e3 = await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(conv, 3));
    await expect.poll(() => again.events().map((e) => e.id), { timeout: 10_000 }).toEqual([e2.id, e3.id]);
  });
});

import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

beforeEach(async () => {
  kit = await startGatewayKit();
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await kit.stop();
});

describe('realtime gateway', () => {
  it('refuses a connection without a valid token', async () => {
    const r = await kit.replica();
    await expect(connectClient(urlOf(r), 'wrong')).rejects.toThrow(/401/);
  });

  it("gives a tenant-B client subscribed to tenant A's conversation nothing", async () => {
    const r = await kit.replica();
    const conv = randomUUID();
    const a = await connect(urlOf(r), TENANT_A.token);
    const b = await connect(urlOf(r), TENANT_B.token);
    await a.subscribe([`conversation:${conv}`, 'conversation_states']);
    await b.subscribe([`conversation:${conv}`, 'conversation_states']);
    for (let v = 1; v <= 5; v++)
      await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(conv, v));
    await expect.poll(() => a.events().length, { timeout: 10_000 }).toBe(5);
    // B's own event arriving after A's proves B's stream was live while A's went by.
    await kit.publish(TENANT_B.tenantId, 'conversation.status.changed', statusChanged(randomUUID(), 1));
    await expect.poll(() => b.events().length, { timeout: 10_000 }).toBe(1);
    expect(b.events()[0]?.data?.conversationId).not.toBe(conv);
    expect(a.events().map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
  });

  it('replays exactly the 100 events a disconnected client missed, in order, then goes live', async () => {
    const r = await kit.replica();
    const conv = randomUUID();
    const first = await connect(urlOf(r), TENANT_A.token);
    await first.subscribe([`conversation:${conv}`]);
    const seen = await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(conv, 1));
    await expect.poll(() => first.events().length, { timeout: 10_000 }).toBe(1);
    await first.close();

    const missed: string[] = [];
    for (let v = 2; v <= 101; v++) {
      missed.push((await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(conv, v))).id);
      // Another conversation's events are in the tenant's log too, and must not be replayed.
      if (v % 10 === 0)
        await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(randomUUID(), 1));
    }
    // The 100 are in the log before the client comes back (the consumer acks after appending).
    await expect.poll(async () => (await r.log.kept(TENANT_A.tenantId)).length, { timeout: 15_000 }).toBe(111);

    const again = await connect(urlOf(r), TENANT_A.token);
    const answer = await again.subscribe([`conversation:${conv}`], { lastEventId: seen.id });
    expect(answer).toMatchObject({ type: 'subscribed', replayed: 100 });
    const live = await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(conv, 102));
    await expect.poll(() => again.events().length, { timeout: 10_000 }).toBe(101);
    expect(again.events().map((e) => e.id)).toEqual([...missed, live.id]);
  });

  it('tells a client whose last event id the log no longer holds to reload', async () => {
    const r = await kit.replica({ REALTIME_REPLAY_MAX_EVENTS: '1' });
    const c = await connect(urlOf(r), TENANT_A.token);
    const answer = await c.subscribe(['conversation_states'], { lastEventId: randomUUID() });
    expect(answer).toMatchObject({ type: 'reload' });
  });

  it('with two replicas, every client gets every event exactly once', async () => {
    const [r1, r2] = [await kit.replica(), await kit.replica()];
    const conv = randomUUID();
    const cs = [];
    for (const r of [r1, r2, r1, r2]) {
      const c = await connect(urlOf(r), TENANT_A.token);
      await c.subscribe([`conversation:${conv}`, 'conversation_states']);
      cs.push(c);
    }
    const ids: string[] = [];
    for (let v = 1; v <= 40; v++) {
      ids.push((await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(conv, v))).id);
    }
    // The bus is at-least-once: the same event again (same CloudEvents id) is not pushed twice;
    // the event after it shows the copy would have arrived by then.
    const twice = await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(conv, 41));
    await kit.republish('conversation.status.changed', twice);
    const after = await kit.publish(TENANT_A.tenantId, 'conversation.status.changed', statusChanged(conv, 42));
    ids.push(twice.id, after.id);
    for (const c of cs) await expect.poll(() => c.events().length, { timeout: 15_000 }).toBe(42);
    for (const c of cs) expect(c.events().map((e) => e.id)).toEqual(ids);
  });
});

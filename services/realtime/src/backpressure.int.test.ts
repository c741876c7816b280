import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Client, connectClient, startGatewayKit, TENANT_A, urlOf } from './test-kit.ts';

type Kit = Awaited<ReturnType<typeof startGatewayKit>>;
let kit: Kit;
const clients: Client[] = [];

beforeEach(async () => {
  kit = await startGatewayKit();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await kit.stop();
});

/** The client's TCP socket: pausing it makes the client stop reading, as a stalled browser tab does. */
const socketOf = (c: Client) => (c.ws as unknown as { _socket: Socket })._socket;
const dropped = async (r: Awaited<ReturnType<Kit['replica']>>, reason: string) =>
  (await r.metrics.dropped.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

const message = (conversationId: string, text: string) => ({
  messageId: randomUUID(),
  conversationId,
  customerId: randomUUID(),
  provider: 'whatsapp',
  providerMessageId: `wamid.${randomUUID()}`,
  from: '+15551234567',
  type: 'text',
  text,
  sentAt: new Date().toISOString(),
  receivedAt: new Date().toISOString(),
});

describe('a client that stops reading', () => {
  it('is dropped when its send buffer fills, and the others get every event meanwhile', async () => {
    const r = await kit.replica({ REALTIME_MAX_BUFFERED_BYTES: String(256 * 1024) });
    const conv = randomUUID();
    const slow = await connectClient(urlOf(r), TENANT_A.token);
    const fast = await connectClient(urlOf(r), TENANT_A.token);
    clients.push(slow, fast);
    await slow.subscribe([`conversation:${conv}`]);
    await fast.subscribe([`conversation:${conv}`]);
    socketOf(slow).pause();

    // 300 frames of ~64 KiB: far more than the kernel's socket buffers and the gateway's limit.
    const text = 'x'.repeat(64 * 1024);
    const ids: string[] = [];
    for (let i = 0; i < 300; i++)
      ids.push((await kit.publish(TENANT_A.tenantId, 'message.received', message(conv, text))).id);

    await expect.poll(() => fast.events().length, { timeout: 30_000 }).toBe(300);
    expect(fast.events().map((e) => e.id)).toEqual(ids);
    expect(await dropped(r, 'slow')).toBe(1);
    expect(r.gateway.connections).toBe(1);
  });

  it('sending an oversized frame closes that client only; the replica carries on', async () => {
    const r = await kit.replica();
    const bad = await connectClient(urlOf(r), TENANT_A.token);
    const good = await connectClient(urlOf(r), TENANT_A.token);
    clients.push(bad, good);
    bad.ws.send('x'.repeat(128 * 1024));
    await expect.poll(() => bad.closed()?.code, { timeout: 10_000 }).toBe(1009);
    const conv = randomUUID();
    await good.subscribe([`conversation:${conv}`]);
    await kit.publish(TENANT_A.tenantId, 'message.received', message(conv, 'still here'));
    await expect.poll(() => good.events().length, { timeout: 10_000 }).toBe(1);
  });

  it('is dropped when it misses a heartbeat', async () => {
    const r = await kit.replica({ REALTIME_HEARTBEAT_MS: '200' });
    const stalled = await connectClient(urlOf(r), TENANT_A.token);
    const healthy = await connectClient(urlOf(r), TENANT_A.token);
    clients.push(stalled, healthy);
    socketOf(stalled).pause();
    await expect.poll(() => dropped(r, 'heartbeat'), { timeout: 10_000 }).toBe(1);
    expect(r.gateway.connections).toBe(1);
    expect(healthy.closed()).toBeUndefined();
  });
});

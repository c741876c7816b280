import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, startGatewayKit, TENANT_A, TENANT_B, urlOf } from './test-kit.ts';

/**
 * A token is checked again at every heartbeat, not only when the connection opens: a browser token
 * past its expiry and a revoked read-API token stop streaming (4001) and their client reconnects
 * with a fresh one; a read API that cannot answer cuts nobody off.
 */
type Kit = Awaited<ReturnType<typeof startGatewayKit>>;
let kit: Kit;
let base: string;
beforeAll(async () => {
  kit = await startGatewayKit({
    REALTIME_HEARTBEAT_MS: '200',
    API_TOKEN_CACHE_TTL_MS: '100',
    REALTIME_BROWSER_TOKEN_TTL_SECONDS: '2',
  });
  base = urlOf(await kit.replica());
});
afterAll(async () => {
  await kit.stop();
});

const closedWith = (client: { closed: () => { code: number; reason: string } | undefined }) =>
  expect.poll(() => client.closed()?.code, { timeout: 10_000, interval: 50 });

async function browserToken(apiToken: string): Promise<string> {
  const res = await fetch(`${base}/auth/token`, { method: 'POST', headers: { authorization: `Bearer ${apiToken}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

describe('tokens of open connections', () => {
  it('a browser token past its expiry closes its connection with 4001; a fresh token connects again', async () => {
    const client = await connectClient(base, await browserToken(TENANT_A.token));
    await client.subscribe(['queue']);
    const opened = Date.now();
    await closedWith(client).toBe(4001);
    // Not before the token's two seconds were up (exp has whole seconds: at least one passed).
    expect(Date.now() - opened).toBeGreaterThanOrEqual(1_000);
    expect(client.closed()?.reason).toMatch(/token expired or revoked/);
    const again = await connectClient(base, await browserToken(TENANT_A.token));
    expect(again.closed()).toBeUndefined();
    await again.close();
  });

  it("a revoked read-API token closes its connections, and only that token's", async () => {
    const [a1, a2, b] = await Promise.all([
      connectClient(base, TENANT_A.token),
      connectClient(base, TENANT_A.token),
      connectClient(base, TENANT_B.token),
    ]);
    kit.readApi.revoked.add(TENANT_A.token);
    try {
      await closedWith(a1).toBe(4001);
      await closedWith(a2).toBe(4001);
      // Several heartbeats later tenant B's connection is still open.
      await new Promise((r) => setTimeout(r, 600));
      expect(b.closed()).toBeUndefined();
      await expect(connectClient(base, TENANT_A.token)).rejects.toThrow(/401/);
    } finally {
      kit.readApi.revoked.delete(TENANT_A.token);
      await b.close();
    }
  });

  it('keeps connections open while the read API cannot answer', async () => {
    const client = await connectClient(base, TENANT_B.token);
    kit.readApi.down = true;
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      expect(client.closed()).toBeUndefined();
    } finally {
      kit.readApi.down = false;
    }
    await client.close();
  });
});

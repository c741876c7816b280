import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayKit, TENANT_A, urlOf } from './test-kit.ts';

/**
 * The gateway's HTTP answers as openapi.yaml documents them: every refusal the one Error shape,
 * the proxies passing through only what their upstreams serve.
 */
type Kit = Awaited<ReturnType<typeof startGatewayKit>>;
let kit: Kit;
let base: string;

/** A loopback URL nothing listens on: a port the OS just handed out, closed again. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** A WebSocket upgrade request as a browser sends it; resolves with the (non-101) answer. */
function upgrade(url: string): Promise<{ status: number; type: string; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': Buffer.from('sixteen byte key').toString('base64'),
        'sec-websocket-version': '13',
      },
    });
    req.on('upgrade', () => reject(new Error('upgraded')));
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: JSON.parse(text) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  kit = await startGatewayKit();
  base = urlOf(await kit.replica({ REALTIME_ASSIGNMENT_API_URL: await deadUrl() }));
});
afterAll(async () => {
  await kit.stop();
});

describe('realtime HTTP', () => {
  it('refuses an upgrade with a wrong token in the Error shape', async () => {
    const res = await upgrade(`${base}/ws?token=wrong`);
    expect(res.status).toBe(401);
    expect(res.type).toMatch(/application\/json/);
    expect(res.body).toEqual({ error: 'unauthorized', message: expect.any(String) });
  });

  it('answers a plain GET /ws with 426 and the Error shape', async () => {
    const res = await fetch(`${base}/ws`);
    expect(res.status).toBe(426);
    expect(res.headers.get('upgrade')).toBe('websocket');
    expect(await res.json()).toEqual({ error: 'upgrade_required', message: expect.any(String) });
  });

  it('proxies GET to the read API with the caller’s token, and nothing but GET', async () => {
    const auth = { authorization: `Bearer ${TENANT_A.token}` };
    const ok = await fetch(`${base}/api/read/tenant`, { headers: auth });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ id: TENANT_A.tenantId, slug: TENANT_A.slug });
    expect((await fetch(`${base}/api/read/tenant`)).status).toBe(401);
    // The gateway's own 404 names its path; one proxied to the read API would name `/tenant`.
    const refused = await fetch(`${base}/api/read/tenant`, { method: 'DELETE', headers: auth });
    expect(refused.status).toBe(404);
    expect(((await refused.json()) as { message: string }).message).toContain('DELETE:/api/read/tenant');
  });

  it('answers 503 unavailable with Retry-After while an upstream API is unreachable', async () => {
    const res = await fetch(`${base}/api/assignment/queue/status`, {
      headers: { authorization: `Bearer ${TENANT_A.token}` },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toEqual({ error: 'unavailable', message: 'upstream API unreachable' });
  });
});

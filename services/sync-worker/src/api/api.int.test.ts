import { issueApiToken, revokeApiToken, seedTenant } from '@switchboard/db';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface TenantView {
  id: string;
  slug: string;
  channels: Array<{ provider: string; accountId: string }>;
}

let p: Pipeline;
let other: { tenantId: string; token: string };

beforeAll(async () => {
  p = await startPipeline({ env: { API_TOKEN_CACHE_TTL_MS: '0' } });
  const acme = await seedTenant(p.db, {
    slug: 'acme',
    name: 'Acme',
    channels: [{ provider: 'whatsapp', accountId: '200000000000001' }],
  });
  other = { tenantId: acme.tenantId, token: (await issueApiToken(p.db, acme.tenantId, 'acme portal')).token };
});
afterAll(async () => {
  await p.stop();
});

describe('read API authentication', () => {
  it('answers 401 with a Bearer challenge without a token', async () => {
    const res = await fetch(`${p.workerUrl}/tenant`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.json()).toMatchObject({ error: 'unauthorized' });
  });

  it('answers 401 for an unknown token', async () => {
    const res = await p.api('/tenant', { token: 'sbk_not-a-token' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it("shows each token its own tenant and channels, never another tenant's", async () => {
    const dev = (await (await p.api('/tenant')).json()) as TenantView;
    expect(dev).toMatchObject({ id: p.tenant.tenantId, slug: 'dev' });
    expect(dev.channels.map((c) => c.accountId)).toContain('106540352242922');
    expect(dev.channels.map((c) => c.accountId)).not.toContain('200000000000001');

    const acme = (await (await p.api('/tenant', { token: other.token })).json()) as TenantView;
    expect(acme).toMatchObject({ id: other.tenantId, slug: 'acme' });
    expect(acme.channels).toEqual([expect.objectContaining({ provider: 'whatsapp', accountId: '200000000000001' })]);
  });

  it('stops accepting a revoked token', async () => {
    const issued = await issueApiToken(p.db, other.tenantId, 'short-lived');
    expect((await p.api('/tenant', { token: issued.token })).status).toBe(200);
    await revokeApiToken(p.db, issued.id);
    expect((await p.api('/tenant', { token: issued.token })).status).toBe(401);
  });

  it('keeps the ops routes open', async () => {
    expect((await fetch(`${p.workerUrl}/healthz`)).status).toBe(200);
  });
});

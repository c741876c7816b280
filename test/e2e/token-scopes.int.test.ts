import { issueApiToken } from '@switchboard/db';
import { TOKEN_SCOPES, type TokenScope } from '@switchboard/domain';
import { HTTP_METHODS, loadOpenApi } from '@switchboard/platform';
import { loadConfig, type Realtime, startRealtime } from '@switchboard/realtime';
import { baseUrl, type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Every tenant-scoped route of the sync-worker and the assignment-worker, as openapi.yaml lists
 * them with the scope each needs (`x-required-scope`): a token with only that scope gets past the
 * check, a token with only another scope gets 403 and changes nothing. So a route whose code and
 * document disagree, or a guard that is missing, fails here.
 */
type Op = { path: string; method: string; service: string; scope: TokenScope };
const doc = loadOpenApi() as {
  paths: Record<string, Record<string, { tags?: string[]; 'x-required-scope'?: string }>>;
};
const guarded: Op[] = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([m, op]) => (HTTP_METHODS as readonly string[]).includes(m) && op['x-required-scope'] !== undefined)
    .map(([method, op]) => ({
      path,
      method: method.toUpperCase(),
      service: op.tags?.[0] ?? '',
      scope: op['x-required-scope'] as TokenScope,
    })),
);
const concrete = (path: string) =>
  path
    .replace('{waId}', '15550001111')
    .replace('{genesysId}', 'g-1')
    .replace(/\{id\}/g, '6f1c8a5e-0000-4000-8000-000000000000');

let p: Pipeline;
let rt: Realtime;
const only = {} as Record<TokenScope, string>;
beforeAll(async () => {
  p = await startPipeline({ assignment: true });
  for (const scope of TOKEN_SCOPES)
    only[scope] = (await issueApiToken(p.db, p.tenant.tenantId, `only ${scope}`, { scopes: [scope] })).token;
  rt = await startRealtime(
    loadConfig({ ...p.env, REALTIME_PORT: '0', REALTIME_HOST: '127.0.0.1', REALTIME_READ_API_URL: p.workerUrl }),
  );
  await rt.broker.ready();
});
afterAll(async () => {
  await rt?.lifecycle.stop();
  await p?.stop();
});

async function call(op: Op, token: string) {
  const base = op.service === 'assignment-worker' ? p.assignmentUrl : p.workerUrl;
  const res = await fetch(`${base}${concrete(op.path)}`, {
    method: op.method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(op.method === 'GET' ? {} : { 'content-type': 'application/json' }),
    },
    ...(op.method === 'GET' ? {} : { body: '{}' }),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as { error?: string } | null };
}

describe('API token scopes', () => {
  it('openapi.yaml names a scope for every route of both APIs, and guards some with operate and admin', () => {
    expect(guarded.length).toBeGreaterThanOrEqual(20);
    expect(new Set(guarded.map((o) => o.service))).toEqual(new Set(['sync-worker', 'assignment-worker']));
    expect(guarded.filter((o) => o.scope === 'admin').map((o) => o.path)).toContain('/conversations/{id}/transition');
    expect(guarded.filter((o) => o.scope === 'operate').map((o) => o.path)).toContain('/chats/{id}/release');
  });

  it('lets a token with the route’s scope through and answers 403 to one without it', async () => {
    const seen: string[] = [];
    for (const op of guarded) {
      const allowed = await call(op, only[op.scope]);
      expect([401, 403], `${op.method} ${op.path} with ${op.scope}`).not.toContain(allowed.status);
      for (const other of TOKEN_SCOPES.filter((s) => s !== op.scope)) {
        const refused = await call(op, only[other]);
        expect(refused, `${op.method} ${op.path} with only ${other}`).toEqual({
          status: 403,
          body: { error: 'forbidden', message: `this API token lacks the ${op.scope} scope` },
        });
      }
      seen.push(`${op.method} ${op.path}`);
    }
    expect(seen).toHaveLength(guarded.length);
  });

  it('refuses an operator command without operate: the chat is not touched', async () => {
    await p.pool.query(
      `insert into chats (id, tenant_id, state, waiting_since) values ($1, $2, 'waiting_assignment', now())`,
      ['6f1c8a5e-0000-4000-8000-0000000000aa', p.tenant.tenantId],
    );
    const release = {
      path: '/chats/{id}/queue',
      method: 'POST',
      service: 'assignment-worker',
      scope: 'operate',
    } as const;
    const res = await fetch(`${p.assignmentUrl}/chats/6f1c8a5e-0000-4000-8000-0000000000aa/queue`, {
      method: release.method,
      headers: { authorization: `Bearer ${only.read}`, 'content-type': 'application/json' },
      body: JSON.stringify({ queue: 'vip' }),
    });
    expect(res.status).toBe(403);
    const row = await p.pool.query('select queue, version from chats where id = $1', [
      '6f1c8a5e-0000-4000-8000-0000000000aa',
    ]);
    expect(row.rows).toEqual([{ queue: null, version: 1 }]);
  });

  it('realtime: a browser token only for a token that may read', async () => {
    const mint = (token: string) =>
      fetch(`${baseUrl(rt.app)}/auth/token`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect((await mint(only.read)).status).toBe(200);
    expect((await mint(only.operate)).status).toBe(401);
    expect((await mint(only.admin)).status).toBe(401);
  });
});

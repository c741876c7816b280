import { readFileSync } from 'node:fs';
import { type ApiDeps, registerApi } from '@switchboard/sync-worker';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const doc = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as {
  openapi: string;
  paths: Record<string, Record<string, { parameters?: Array<{ name?: string; in?: string; $ref?: string }> }>>;
  components: { parameters: Record<string, { name: string; in: string }> };
};
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Every route the read API registers, as `METHOD /path/{param}`. */
async function registeredRoutes(): Promise<string[]> {
  const app = Fastify();
  const routes: string[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push(`${m} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
  });
  // Registration touches no dependency; requests would.
  registerApi(app, {} as ApiDeps, { tokenCacheTtlMs: 0 });
  await app.ready();
  await app.close();
  return routes.sort();
}

describe('openapi.yaml', () => {
  it('is an OpenAPI 3.1 document', () => {
    expect(doc.openapi).toBe('3.1.0');
  });

  it('documents exactly the routes the sync-worker API registers', async () => {
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) =>
        Object.keys(ops)
          .filter((m) => METHODS.includes(m))
          .map((m) => `${m.toUpperCase()} ${path}`),
      )
      .sort();
    expect(documented).toEqual(await registeredRoutes());
  });

  it('declares every path parameter of every route', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(ops)) {
        const declared = (op.parameters ?? [])
          .map((p) => (p.$ref ? doc.components.parameters[p.$ref.split('/').pop() as string] : p))
          .filter((p) => p?.in === 'path')
          .map((p) => p?.name);
        expect(declared.sort(), `${method} ${path}`).toEqual(inPath.sort());
      }
    }
  });
});

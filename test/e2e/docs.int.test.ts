import { HTTP_METHODS, loadOpenApi, recordedRoutes } from '@switchboard/platform';
import { baseUrl, type Pipeline, startPipeline } from '@switchboard/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The services as their start functions build them (test/contracts/openapi-routes.test.ts checks
 * rebuilt apps in milliseconds; this holds the real ones to openapi.yaml too): every route each
 * registers is documented under its tag or `ops`, every one documented there is registered, and
 * its /docs/json serves exactly that part.
 */
const doc = loadOpenApi();
const documented = (tag: string) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(
        ([m, op]) => (HTTP_METHODS as readonly string[]).includes(m) && (op as { tags?: string[] }).tags?.includes(tag),
      )
      .map(([m]) => `${m.toUpperCase()} ${path}`),
  );
const isAsset = (route: string) => /^GET \/docs\/(static\/.*|\*|)$/.test(route);

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ assignment: true });
});
afterAll(async () => {
  await p.stop();
});

describe.each(['ingest', 'webhooks', 'sync-worker', 'assignment-worker'] as const)('the running %s', (service) => {
  const app = (): FastifyInstance => {
    const running = {
      ingest: p.ingest.app,
      webhooks: p.webhooks.app,
      'sync-worker': p.worker?.app,
      'assignment-worker': p.assignment?.app,
    }[service];
    if (!running) throw new Error(`${service} is not running`);
    return running;
  };
  const own = () => [...documented(service), ...documented('ops')].sort();

  it('registers exactly the routes openapi.yaml documents for it', () => {
    expect(
      recordedRoutes(app())
        .filter((r) => !isAsset(r))
        .sort(),
    ).toEqual(own());
  });

  it('serves that part of the document at /docs/json', async () => {
    const res = await fetch(`${baseUrl(app())}/docs/json`);
    expect(res.status).toBe(200);
    const served = (await res.json()) as typeof doc;
    const paths = [...new Set(own().map((r) => r.split(' ')[1]))].sort();
    expect(Object.keys(served.paths).sort()).toEqual(paths);
  });
});

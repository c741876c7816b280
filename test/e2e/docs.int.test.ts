import { HTTP_METHODS, loadOpenApi, recordedRoutes } from '@switchboard/platform';
import { loadConfig as loadRealtimeConfig, type Realtime, startRealtime } from '@switchboard/realtime';
import { baseUrl, type Pipeline, startPipeline } from '@switchboard/test-pipeline';
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
let rt: Realtime;
beforeAll(async () => {
  p = await startPipeline({ assignment: true });
  if (!p.worker || !p.assignment) throw new Error('the pipeline runs both workers');
  // The gateway on the pipeline's namespace and Redis prefix, in front of its two workers.
  rt = await startRealtime(
    loadRealtimeConfig({
      ...p.env,
      REALTIME_PORT: '0',
      REALTIME_HOST: '127.0.0.1',
      REALTIME_READ_API_URL: baseUrl(p.worker.app),
      REALTIME_ASSIGNMENT_API_URL: baseUrl(p.assignment.app),
    }),
  );
});
afterAll(async () => {
  await rt?.lifecycle.stop();
  await p.stop();
});

const services = ['ingest', 'webhooks', 'sync-worker', 'assignment-worker', 'realtime'] as const;
describe.each(services)('the running %s', (service) => {
  const app = (): FastifyInstance => {
    const running = {
      ingest: p.ingest.app,
      webhooks: p.webhooks.app,
      'sync-worker': p.worker?.app,
      'assignment-worker': p.assignment?.app,
      realtime: rt.app,
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

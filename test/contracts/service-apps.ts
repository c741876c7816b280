import * as assignment from '@switchboard/assignment-worker';
import * as ingest from '@switchboard/ingest';
import {
  createHttpApp,
  createLogger,
  createRegistry,
  httpMetrics,
  recordedRoutes,
  registerOps,
  registerTenantScope,
} from '@switchboard/platform';
import * as realtime from '@switchboard/realtime';
import * as sync from '@switchboard/sync-worker';
import * as webhooks from '@switchboard/webhooks';
import type { FastifyInstance } from 'fastify';

/**
 * Each service's HTTP app, built as its service.ts builds it but with stand-ins for the ports:
 * registration touches no dependency (requests would), so the route list is the real one.
 */
const silent = () => createLogger('contract', 'silent');
const unreachable = async (): Promise<never> => {
  throw new Error('not in the route check');
};
const stub = <T>() => ({}) as T;

function ingestApp(): FastifyInstance {
  return ingest.buildApp({
    config: ingest.loadConfig({ NODE_ENV: 'test' }),
    logger: silent(),
    metrics: ingest.createMetrics(),
    publish: unreachable,
    checks: {},
    mailgun: { replay: { guard: unreachable }, now: Date.now },
  });
}

function webhooksApp(): FastifyInstance {
  const metrics = webhooks.createMetrics();
  return webhooks.buildApp({
    config: webhooks.loadConfig({ NODE_ENV: 'test' }),
    logger: silent(),
    metrics,
    publish: unreachable,
    signed: { metrics, replay: stub(), windowMs: 300_000, now: Date.now },
    checks: {},
  });
}

/** The worker's ops routes, as its service.ts registers them first. */
function workerApp(): FastifyInstance {
  const app = createHttpApp(silent());
  const registry = createRegistry('contract');
  registerOps(app, { registry, http: httpMetrics(registry), checks: {} });
  return app;
}

function syncWorkerApp(): FastifyInstance {
  const app = workerApp();
  sync.registerApi(app, stub<sync.ApiDeps>(), { tokenCacheTtlMs: 0 });
  return app;
}

function assignmentWorkerApp(): FastifyInstance {
  const app = workerApp();
  registerTenantScope(app, unreachable, (api) => assignment.assignmentRoutes(api, stub()));
  return app;
}

/** The gateway's app; its Auth port is a stand-in (only requests would call it). */
function realtimeApp(): FastifyInstance {
  return realtime.buildApp({
    config: realtime.loadConfig({ NODE_ENV: 'test' }),
    logger: silent(),
    metrics: realtime.createMetrics(),
    auth: { apiToken: unreachable, authenticate: unreachable, mint: unreachable },
    checks: {},
  });
}

/** Every service with an HTTP port, by the tag its operations carry in openapi.yaml. */
export const serviceApps: Record<string, () => FastifyInstance> = {
  ingest: ingestApp,
  webhooks: webhooksApp,
  'sync-worker': syncWorkerApp,
  'assignment-worker': assignmentWorkerApp,
  realtime: realtimeApp,
};

/** The routes a service's app registers, as `METHOD /path/{param}`, sorted. */
export async function routesOf(build: () => FastifyInstance): Promise<string[]> {
  const app = build();
  await app.ready();
  const routes = recordedRoutes(app);
  await app.close();
  return routes.sort();
}

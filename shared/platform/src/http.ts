import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import { recordRoutes, registerDocs } from './docs.ts';
import type { Logger } from './logger.ts';
import type { HttpMetrics, Registry } from './metrics.ts';

/**
 * A Fastify app logging through the process's pino root. Per-request access lines are off: at
 * webhook rates they would drown the logs, and `http_requests_total` already counts requests.
 */
export function createHttpApp(logger: Logger, opts: Omit<FastifyServerOptions, 'logger' | 'loggerInstance'> = {}) {
  const app = Fastify({
    ...opts,
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  recordRoutes(app);
  return app;
}

/** A named dependency check; it resolves when the dependency answers, and throws otherwise. */
export type ReadinessCheck = () => Promise<void>;

export interface OpsOptions {
  registry: Registry;
  http: HttpMetrics;
  checks: Record<string, ReadinessCheck>;
  /** Set once shutdown begins, so load balancers stop sending before intake closes. */
  isStopping?: () => boolean;
}

const CHECK_TIMEOUT_MS = 2_000;

async function runCheck(check: ReadinessCheck): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/healthz` (the process is alive), `/readyz` (every dependency answers), `/metrics` and `/docs`
 * (the service's part of openapi.yaml), plus request metrics for every route of the app. Route labels are the route pattern, never the URL.
 */
export function registerOps(app: FastifyInstance, opts: OpsOptions): void {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const labels = { method: req.method, route };
    opts.http.requests.inc({ ...labels, status_code: String(reply.statusCode) });
    opts.http.duration.observe(labels, reply.elapsedTime / 1000);
  });

  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { logLevel: 'warn' }, async (_req, reply) => {
    const names = Object.keys(opts.checks);
    const results = await Promise.all(names.map((n) => runCheck(opts.checks[n] as ReadinessCheck)));
    const checks = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    const stopping = opts.isStopping?.() ?? false;
    const ready = !stopping && results.every((r) => r === 'ok');
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : stopping ? 'stopping' : 'not ready', checks });
  });

  app.get('/metrics', { logLevel: 'warn' }, async (_req, reply) => {
    const body = await opts.registry.metrics();
    return reply.type(opts.registry.contentType).send(body);
  });

  registerDocs(app);
}

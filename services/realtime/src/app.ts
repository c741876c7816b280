import { readFileSync } from 'node:fs';
import proxy from '@fastify/http-proxy';
import { createHttpApp, type Logger, type ReadinessCheck, RequestError, registerOps } from '@switchboard/platform';
import type { FastifyInstance } from 'fastify';
import { type Auth, AuthUnavailableError } from './auth.ts';
import type { Config } from './config.ts';
import type { Metrics } from './metrics.ts';

export interface AppDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  auth: Auth;
  checks: Record<string, ReadinessCheck>;
  isStopping?: () => boolean;
}

/** The console's files, read once at boot: a fixed list, so no path from a request reaches the disk. */
const CONSOLE_FILES: Record<string, string> = {
  '/': 'index.html',
  '/console.js': 'console.js',
  '/console.css': 'console.css',
  '/live.js': 'live.js',
  '/state.js': 'state.js',
  '/views.js': 'views.js',
};
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/**
 * The gateway's HTTP side: ops routes, `POST /auth/token` (a browser token for a read-API token),
 * the operator console, and the two APIs the console calls, proxied so the page has one origin:
 * `/api/read/*` → the sync-worker's read API, `/api/assignment/*` → the assignment-worker's
 * operator routes. The proxies pass the caller's bearer token through; the upstream checks it.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = createHttpApp(deps.logger);
  registerOps(app, {
    registry: deps.metrics.registry,
    http: deps.metrics.http,
    checks: deps.checks,
    ...(deps.isStopping ? { isStopping: deps.isStopping } : {}),
  });
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof RequestError) return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    if (err instanceof AuthUnavailableError) {
      return reply.code(503).header('retry-after', '5').send({ error: 'unavailable', message: err.message });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  app.post('/auth/token', async (req) => {
    const token = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(req.headers.authorization ?? '')?.[1];
    const tenant = token ? await deps.auth.apiToken(token) : null;
    if (!tenant) {
      deps.metrics.authFailures.inc({ reason: token ? 'invalid_token' : 'missing_token' });
      throw new RequestError(401, 'unauthorized', 'send Authorization: Bearer <read-API token>');
    }
    return { ...(await deps.auth.mint(tenant)), tenantId: tenant.tenantId, slug: tenant.slug };
  });

  const dir = new URL('../public/', import.meta.url);
  for (const [route, file] of Object.entries(CONSOLE_FILES)) {
    const body = readFileSync(new URL(file, dir));
    const type = TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream';
    app.get(route, async (_req, reply) => reply.type(type).header('cache-control', 'no-cache').send(body));
  }

  void app.register(proxy, { upstream: deps.config.upstream.readApi, prefix: '/api/read', rewritePrefix: '' });
  void app.register(proxy, {
    upstream: deps.config.upstream.assignmentApi,
    prefix: '/api/assignment',
    rewritePrefix: '',
  });
  return app;
}

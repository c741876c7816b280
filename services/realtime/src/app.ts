import { readFileSync } from 'node:fs';
import proxy from '@fastify/http-proxy';
import { createHttpApp, type Logger, type ReadinessCheck, RequestError, registerOps } from '@switchboard/platform';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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

/** @fastify/reply-from's errors (FST_REPLY_FROM_*): the proxied API refused the connection or timed out. */
const isUpstreamFailure = (err: unknown) => String((err as { code?: unknown })?.code).startsWith('FST_REPLY_FROM_');

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
  app.setErrorHandler(answerError);
  app.post('/auth/token', async (req) => {
    const token = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(req.headers.authorization ?? '')?.[1];
    const tenant = token ? await deps.auth.apiToken(token) : null;
    if (!tenant) {
      deps.metrics.authFailures.inc({ reason: token ? 'invalid_token' : 'missing_token' });
      throw new RequestError(401, 'unauthorized', 'send Authorization: Bearer <read-API token>');
    }
    return { ...(await deps.auth.mint(tenant)), tenantId: tenant.tenantId, slug: tenant.slug };
  });
  registerConsole(app);
  // A plain GET of /ws reaches here only without an upgrade: the Gateway takes upgrades off the
  // server before Fastify routes. Registered so /ws is a documented route, not a bare 404.
  app.get('/ws', async (_req, reply) =>
    reply
      .code(426)
      .header('upgrade', 'websocket')
      .send({ error: 'upgrade_required', message: 'open /ws as a WebSocket (see asyncapi.yaml)' }),
  );
  registerProxies(app, deps.config.upstream);
  return app;
}

/** Every failure as the one Error shape; only what is this gateway's own fault is logged as an error. */
function answerError(err: unknown, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof RequestError) return reply.code(err.statusCode).send({ error: err.code, message: err.message });
  if (err instanceof AuthUnavailableError) {
    return reply.code(503).header('retry-after', '5').send({ error: 'unavailable', message: err.message });
  }
  // The proxied API is down or slow, not this gateway: the console retries.
  if (isUpstreamFailure(err)) {
    req.log.warn({ err }, 'upstream API unreachable');
    return reply
      .code(503)
      .header('retry-after', '5')
      .send({ error: 'unavailable', message: 'upstream API unreachable' });
  }
  req.log.error({ err }, 'request failed');
  return reply.code(500).send({ error: 'internal', message: 'internal error' });
}

function registerConsole(app: FastifyInstance): void {
  const dir = new URL('../public/', import.meta.url);
  for (const [route, file] of Object.entries(CONSOLE_FILES)) {
    const body = readFileSync(new URL(file, dir));
    const type = TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream';
    app.get(route, async (_req, reply) => reply.type(type).header('cache-control', 'no-cache').send(body));
  }
}

/**
 * Only what the upstreams serve (the read API: GET; the operator routes: GET and POST), under
 * `<prefix>/*`: the proxy's other methods and its bare prefix would only ever reach a 404 there.
 */
function registerProxies(app: FastifyInstance, upstream: Config['upstream']): void {
  const proxied = (to: string, prefix: string, httpMethods: Array<'GET' | 'POST'>) =>
    app.register(proxy, { upstream: to, prefix, rewritePrefix: '', routes: ['/*'], httpMethods });
  void proxied(upstream.readApi, '/api/read', ['GET']);
  void proxied(upstream.assignmentApi, '/api/assignment', ['GET', 'POST']);
}

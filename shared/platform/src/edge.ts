import { createServer } from 'node:http';
import type { CloudEvent } from '@switchboard/contracts';
import { decideScope, type TokenScope } from '@switchboard/domain';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Broker, brokerReady } from './amqp/broker.ts';
import { BrokerUnavailableError, Publisher, PublishFailedError } from './amqp/publisher.ts';
import { switchboardTopology, type Topology } from './amqp/topology.ts';
import { createHttpApp, type ReadinessCheck, registerOps } from './http.ts';
import { jsonDepth } from './json-depth.ts';
import { Lifecycle } from './lifecycle.ts';
import type { Logger } from './logger.ts';
import type { HttpMetrics, PublisherMetrics, Registry } from './metrics.ts';
import { isUnreachable } from './outage.ts';

/**
 * What the two HTTP edges (ingest, webhooks) share: one error → status table, raw-body JSON
 * (signatures are computed over the exact bytes), the ops routes, and a publish port that resolves
 * only once the broker confirmed every event of a request.
 */

/** Publishes a webhook's events; resolves only once the broker confirmed every one. */
export type PublishInbound = (batch: Array<{ routingKey: string; event: CloudEvent }>) => Promise<void>;

/** An error the client caused, answered with its status and a message that says what is wrong. */
export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. `retry-after` on a 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A dependency the edge needs for this request (the broker, Redis) is down: the sender retries. */
export class DependencyUnavailableError extends Error {
  override name = 'DependencyUnavailableError';
}

interface ErrorResponse {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

/** Every failure an edge answers, in one table: the error → status code and body. */
export function edgeErrorResponse(err: FastifyError | Error): ErrorResponse {
  if (err instanceof RequestError)
    return { status: err.statusCode, code: err.code, message: err.message, headers: err.headers };
  if (err instanceof BrokerUnavailableError || err instanceof PublishFailedError) {
    return { status: 503, code: 'unavailable', message: 'could not hand the event to the broker; retry later' };
  }
  if (err instanceof DependencyUnavailableError) return { status: 503, code: 'unavailable', message: err.message };
  // A read API whose database (or Redis) is down: the client retries, as for the broker.
  if (isUnreachable(err))
    return { status: 503, code: 'unavailable', message: 'a dependency is unreachable; retry later' };
  const fe = err as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'payload_too_large', message: fe.message };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'unsupported_media_type', message: fe.message };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: 'invalid_content_length', message: fe.message };
    default:
      if (fe.statusCode && fe.statusCode < 500)
        return { status: fe.statusCode, code: 'bad_request', message: fe.message };
      return { status: 500, code: 'internal', message: 'internal error' };
  }
}

export interface EdgeAppOptions {
  logger: Logger;
  registry: Registry;
  http: HttpMetrics;
  checks: Record<string, ReadinessCheck>;
  isStopping?: (() => boolean) | undefined;
  /** The default body limit; routes may set their own. */
  bodyLimit: number;
  /** Socket timeouts; tests shorten them. */
  timeouts?: EdgeTimeouts;
}

/**
 * How long a webhook sender's connection may take, chosen for senders that post small bodies
 * and retry on a timeout: headers within 10 s, the whole request (a 1 MiB body on a slow link)
 * within 15 s, and an idle keep-alive connection closed after 5 s. Node reads them at server
 * creation (set afterwards, a body was not cut for about 70 s), and checks them every second so a
 * slow body is cut within a second of its deadline rather than up to 30 s later (Node's default).
 */
export interface EdgeTimeouts {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
  checkIntervalMs: number;
}
export const EDGE_TIMEOUTS: EdgeTimeouts = {
  headersMs: 10_000,
  requestMs: 15_000,
  keepAliveMs: 5_000,
  checkIntervalMs: 1_000,
};

/** A Fastify app with the edge's error table, raw JSON bodies and ops routes; add routes to it. */
export function createEdgeApp(opts: EdgeAppOptions): FastifyInstance {
  const t = opts.timeouts ?? EDGE_TIMEOUTS;
  const app = createHttpApp(opts.logger, {
    bodyLimit: opts.bodyLimit,
    // Fastify would create the server first and set the timeouts after; Node must get them here.
    serverFactory: (handler) =>
      createServer(
        {
          headersTimeout: t.headersMs,
          requestTimeout: t.requestMs,
          keepAliveTimeout: t.keepAliveMs,
          connectionsCheckingInterval: t.checkIntervalMs,
        },
        handler,
      ),
  });

  // Signatures are computed over the exact bytes, so JSON bodies reach routes unparsed.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const res = edgeErrorResponse(err);
    if (res.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: res.code, reason: res.message }, 'request rejected');
    if (res.status === 503) reply.header('retry-after', '5');
    for (const [name, value] of Object.entries(res.headers ?? {})) reply.header(name, value);
    return reply.code(res.status).send({ error: res.code, message: res.message });
  });

  registerOps(app, {
    registry: opts.registry,
    http: opts.http,
    checks: opts.checks,
    ...(opts.isStopping ? { isStopping: opts.isStopping } : {}),
  });
  return app;
}

/** The raw JSON body of a request, or 415 when it was sent as anything but JSON. */
export function rawJsonBody(req: FastifyRequest): Buffer {
  if (!Buffer.isBuffer(req.body)) throw new RequestError(415, 'unsupported_media_type', 'expected application/json');
  return req.body;
}

/** A raw body read as JSON: its value, or why it is not JSON. */
export type JsonBody =
  | { ok: true; value: unknown }
  /** `tooDeep`: the value of a body that is JSON but nests too deep to encode again (see below). */
  | { ok: false; error: string; tooDeep?: unknown };

/**
 * The deepest nesting a webhook body may have. Real payloads nest about ten levels; JSON.parse
 * reads any depth, but JSON.stringify (the event's encoding, a parked fragment) recurses and
 * overflows the stack at a few thousand, so a deeper body is treated as unreadable: parked whole
 * (signed routes that park) or refused, never a 500.
 */
export const MAX_JSON_DEPTH = 64;

export function readJson(raw: Buffer): JsonBody {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    return { ok: false, error: `body is not valid JSON: ${(err as Error).message}` };
  }
  if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    return { ok: false, error: `too_deep: body nests deeper than ${MAX_JSON_DEPTH} levels`, tooDeep: value };
  }
  return { ok: true, value };
}

/** Parses a verified raw body as JSON, or answers 400 saying why. */
export function parseJson(raw: Buffer): unknown {
  const body = readJson(raw);
  if (!body.ok) throw new RequestError(400, 'malformed_json', body.error);
  return body.value;
}

export interface EdgeRuntime {
  lifecycle: Lifecycle;
  broker: Broker;
  topology: Topology;
  publish: PublishInbound;
  /** Readiness checks every edge has (the broker); add the edge's own. */
  checks: Record<string, ReadinessCheck>;
}

/**
 * The broker side of an edge: a reconnecting broker and a confirm-channel publisher whose
 * `publish` routes `mandatory`, so an event no queue would take fails the request (503) rather
 * than vanishing. Stop order (reverse of start): HTTP first, so in-flight publishes confirm.
 */
export async function startEdgeRuntime(opts: {
  amqpUrl: string;
  confirmTimeoutMs: number;
  namespace: string;
  logger: Logger;
  metrics: PublisherMetrics;
  shutdownTimeoutMs: number;
}): Promise<EdgeRuntime> {
  const lifecycle = new Lifecycle(opts.logger, opts.shutdownTimeoutMs);
  const topology = switchboardTopology(opts.namespace);
  const broker = new Broker(opts.amqpUrl, topology, opts.logger, opts.metrics);
  lifecycle.onStop('broker', () => broker.close());
  const publisher = new Publisher(broker, opts.metrics, opts.logger, { confirmTimeoutMs: opts.confirmTimeoutMs });
  await publisher.start();
  lifecycle.onStop('publisher', () => publisher.close());
  broker.start();
  return {
    lifecycle,
    broker,
    topology,
    checks: { broker: brokerReady(broker) },
    publish: async (batch) => {
      await Promise.all(
        batch.map((b) => publisher.publishEvent(topology.names.inbound, b.routingKey, b.event, { mandatory: true })),
      );
    },
  };
}

/** Parses a request part (params, query, body) with `schema`, or answers 400 saying what is wrong. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new RequestError(400, 'invalid_request', `${what}: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`);
  }
  return parsed.data;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant of the request's API token (tenant-scoped routes only). Scope every query by it. */
    tenant: { id: string; slug: string; scopes: string[] };
  }
  interface FastifyContextConfig {
    /** The token scope a tenant-scoped route needs; `read` when it names none. */
    scope?: TokenScope;
  }
}

/**
 * A scope of `app` in which every route needs `Authorization: Bearer <token>` (resolved to a
 * tenant by `authenticate`, which throws a 401 `RequestError`) whose scopes include the route's
 * (`config: { scope }`, `read` when it names none; else 403), and errors answer
 * `{ error, message }` with the edge's status table. `register` adds the routes.
 */
export function registerTenantScope(
  app: FastifyInstance,
  authenticate: (
    authorization: string | string[] | undefined,
  ) => Promise<{ tenantId: string; slug: string; scopes: string[] }>,
  register: (scope: FastifyInstance) => void,
): void {
  void app.register(async (scope) => {
    scope.decorateRequest('tenant', null as unknown as FastifyRequest['tenant']);
    scope.addHook('onRequest', async (req) => {
      const t = await authenticate(req.headers.authorization);
      req.tenant = { id: t.tenantId, slug: t.slug, scopes: t.scopes };
      const decision = decideScope(t.scopes, req.routeOptions.config.scope ?? 'read');
      if (decision.kind === 'deny')
        throw new RequestError(403, 'forbidden', `this API token lacks the ${decision.missing} scope`);
    });
    scope.setErrorHandler((err: FastifyError, req, reply) => {
      const res = edgeErrorResponse(err);
      if (res.status >= 500) req.log.error({ err }, 'request failed');
      if (res.status === 503) reply.header('retry-after', '5');
      for (const [name, value] of Object.entries(res.headers ?? {})) reply.header(name, value);
      return reply.code(res.status).send({ error: res.code, message: res.message });
    });
    register(scope);
  });
}

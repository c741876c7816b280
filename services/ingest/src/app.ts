import type { CloudEvent } from '@switchboard/contracts';
import {
  BrokerUnavailableError,
  createHttpApp,
  type Logger,
  PublishFailedError,
  type ReadinessCheck,
  registerOps,
} from '@switchboard/platform';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import type { Metrics } from './metrics.ts';
import { registerWhatsApp } from './routes/whatsapp.ts';

/** Publishes a webhook's events; resolves only once the broker confirmed every one. */
export type PublishInbound = (batch: Array<{ routingKey: string; event: CloudEvent }>) => Promise<void>;

export interface AppDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  publish: PublishInbound;
  checks: Record<string, ReadinessCheck>;
  isStopping?: () => boolean;
}

/** An error the client caused, answered with its status and a message that says what is wrong. */
export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Every failure an edge answers, in one table: the error → status code and body. */
function toResponse(err: FastifyError | Error): { status: number; code: string; message: string } {
  if (err instanceof RequestError) return { status: err.statusCode, code: err.code, message: err.message };
  if (err instanceof BrokerUnavailableError || err instanceof PublishFailedError) {
    return { status: 503, code: 'unavailable', message: 'could not hand the event to the broker; retry later' };
  }
  const fe = err as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'payload_too_large', message: fe.message };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: fe.statusCode ?? 415, code: 'unsupported_media_type', message: fe.message };
    default:
      if (fe.statusCode && fe.statusCode < 500)
        return { status: fe.statusCode, code: 'bad_request', message: fe.message };
      return { status: 500, code: 'internal', message: 'internal error' };
  }
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = createHttpApp(deps.logger, {
    bodyLimit: deps.config.whatsapp.bodyLimit,
    // Providers retry on timeouts; answer or fail well inside their window.
    requestTimeout: 10_000,
  });

  // Signatures are computed over the exact bytes, so JSON bodies reach routes unparsed.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const res = toResponse(err);
    if (res.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: res.code, reason: res.message }, 'request rejected');
    if (res.status === 503) reply.header('retry-after', '5');
    return reply.code(res.status).send({ error: res.code, message: res.message });
  });

  registerOps(app, {
    registry: deps.metrics.registry,
    http: deps.metrics.http,
    checks: deps.checks,
    ...(deps.isStopping ? { isStopping: deps.isStopping } : {}),
  });
  registerWhatsApp(app, deps);
  return app;
}

/** Parses a verified raw body as JSON, or answers 400 saying why. */
export function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new RequestError(400, 'malformed_json', `body is not valid JSON: ${(err as Error).message}`);
  }
}

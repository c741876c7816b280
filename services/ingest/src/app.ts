import { createEdgeApp, type Logger, type PublishInbound, type ReadinessCheck } from '@switchboard/platform';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import type { Metrics } from './metrics.ts';
import { registerWhatsApp } from './routes/whatsapp.ts';

export interface AppDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  publish: PublishInbound;
  checks: Record<string, ReadinessCheck>;
  isStopping?: () => boolean;
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = createEdgeApp({
    logger: deps.logger,
    registry: deps.metrics.registry,
    http: deps.metrics.http,
    checks: deps.checks,
    isStopping: deps.isStopping,
    bodyLimit: deps.config.whatsapp.bodyLimit,
  });
  registerWhatsApp(app, deps);
  return app;
}

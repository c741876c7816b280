import { createEdgeApp } from '@switchboard/platform';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from './routes/deps.ts';
import { registerMailgun } from './routes/mailgun.ts';
import { registerWhatsApp } from './routes/whatsapp.ts';

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
  if (deps.mailgun) registerMailgun(app, deps, deps.mailgun);
  return app;
}

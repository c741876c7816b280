import {
  createEdgeApp,
  type Logger,
  type PublishInbound,
  type RateLimit,
  type ReadinessCheck,
  type SecretsFor,
} from '@switchboard/platform';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import type { Metrics } from './metrics.ts';
import { type MailgunDeps, registerMailgun } from './routes/mailgun.ts';
import { registerWhatsApp } from './routes/whatsapp.ts';

export interface AppDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  publish: PublishInbound;
  checks: Record<string, ReadinessCheck>;
  isStopping?: () => boolean;
  /** A channel's valid secrets (its own, or the env default); without it, the env default only. */
  secretsFor?: SecretsFor;
  /** The per-channel request budget (429 over it); without it, no limit. */
  rateLimit?: RateLimit;
  /** The Mailgun routes need the replay cache; without it they are not served. */
  mailgun?: MailgunDeps;
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
  if (deps.mailgun) registerMailgun(app, deps, deps.mailgun);
  return app;
}

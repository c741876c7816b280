import {
  createLogger,
  createRateLimit,
  type Logger,
  startChannelSecrets,
  startEdgeRuntime,
  startReplayCache,
} from '@switchboard/platform';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { createMetrics } from './metrics.ts';

/**
 * Starts the business-system edge (Genesys, helpdesk, agent desk). Stateless apart from Redis,
 * which holds the replay cache. Stop order: HTTP, then Redis, then the broker.
 */
export async function startWebhooks(config: Config, opts: { logger?: Logger; now?: () => number } = {}) {
  const logger = opts.logger ?? createLogger('webhooks', config.LOG_LEVEL);
  const metrics = createMetrics();
  const { lifecycle, broker, topology, publish, checks } = await startEdgeRuntime({
    amqpUrl: config.AMQP_URL,
    confirmTimeoutMs: config.AMQP_CONFIRM_TIMEOUT_MS,
    namespace: config.AMQP_NAMESPACE,
    logger,
    metrics: metrics.publisher,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
  // Twice the window: a timestamp may be up to one window early or late.
  const { redis, replay, ready } = startReplayCache({
    redisUrl: config.REDIS_URL,
    keyPrefix: config.REDIS_KEY_PREFIX,
    logger,
    lifecycle,
    ttlMs: 2 * config.signatureWindowMs,
    scope: 'webhooks',
    metrics: metrics.replay,
    now: opts.now ?? Date.now,
  });
  // Per-channel secrets: the registry's snapshot held in memory, fed from Redis (channel-secrets.ts).
  const channelSecrets = await startChannelSecrets(redis, {
    ...config.channelSecrets,
    logger,
    metrics: metrics.channelSecrets,
  });
  lifecycle.onStop('channel secrets', () => channelSecrets.stop());
  const signed = {
    metrics,
    replay,
    windowMs: config.signatureWindowMs,
    now: opts.now ?? Date.now,
    secretsFor: channelSecrets.secretsFor,
    rateLimit: createRateLimit(redis, {
      ...config.rateLimit,
      logger,
      onUnavailable: () => metrics.rateLimitUnavailable.inc(),
    }),
  };
  const app = buildApp({
    config,
    logger,
    metrics,
    publish,
    signed,
    checks: { ...checks, redis: ready },
    isStopping: () => lifecycle.stopping,
  });
  await app.listen({ port: config.http.port, host: config.http.host });
  lifecycle.onStop('http', () => app.close());
  return { lifecycle, app, broker, redis, metrics, topology, channelSecrets };
}
export type Webhooks = Awaited<ReturnType<typeof startWebhooks>>;

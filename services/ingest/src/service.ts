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

/** Starts the ingest edge; `lifecycle.stop()` closes HTTP first (in-flight publishes confirm), then the broker. */
export async function startIngest(config: Config, opts: { logger?: Logger; now?: () => number } = {}) {
  const logger = opts.logger ?? createLogger('ingest', config.LOG_LEVEL);
  const metrics = createMetrics();
  const { lifecycle, broker, topology, publish, checks } = await startEdgeRuntime({
    amqpUrl: config.AMQP_URL,
    confirmTimeoutMs: config.AMQP_CONFIRM_TIMEOUT_MS,
    namespace: config.AMQP_NAMESPACE,
    logger,
    metrics: metrics.publisher,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
  // Redis holds Mailgun's replay cache (tokens seen within twice the signature window).
  const { redis, replay, ready } = startReplayCache({
    redisUrl: config.REDIS_URL,
    keyPrefix: config.REDIS_KEY_PREFIX,
    logger,
    lifecycle,
    ttlMs: 2 * config.mailgun.signatureWindowMs,
    scope: 'ingest',
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
  const app = buildApp({
    config,
    logger,
    metrics,
    checks: { ...checks, redis: ready },
    publish,
    isStopping: () => lifecycle.stopping,
    secretsFor: channelSecrets.secretsFor,
    rateLimit: createRateLimit(redis, {
      ...config.rateLimit,
      logger,
      onUnavailable: () => metrics.rateLimitUnavailable.inc(),
    }),
    mailgun: { replay, now: opts.now ?? Date.now },
  });
  await app.listen({ port: config.http.port, host: config.http.host });
  lifecycle.onStop('http', () => app.close());
  return { lifecycle, app, broker, redis, metrics, topology, channelSecrets };
}
export type Ingest = Awaited<ReturnType<typeof startIngest>>;

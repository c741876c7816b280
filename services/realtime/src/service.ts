import {
  Broker,
  brokerReady,
  Consumer,
  closeRedis,
  createLogger,
  createRedis,
  Lifecycle,
  type Logger,
  Publisher,
  redisReady,
  switchboardTopology,
} from '@switchboard/platform';
import { buildApp } from './app.ts';
import { createAuth } from './auth.ts';
import { createBusHandler } from './bus.ts';
import type { Config } from './config.ts';
import { createEventLog } from './event-log.ts';
import { Gateway } from './gateway.ts';
import { createMetrics } from './metrics.ts';

/**
 * Starts one gateway replica: Redis (the replay log and the per-topic live channels), the bus
 * consumer that fills the log, the WebSocket gateway that subscribes to its clients' channels, and HTTP (ops, tokens, console). Stop order:
 * stop taking upgrades and close clients, stop consuming, then Redis and the broker.
 */
export async function startRealtime(config: Config, opts: { logger?: Logger } = {}) {
  const logger = opts.logger ?? createLogger('realtime', config.LOG_LEVEL);
  const lifecycle = new Lifecycle(logger, config.SHUTDOWN_TIMEOUT_MS);
  const metrics = createMetrics();
  const topology = switchboardTopology(config.AMQP_NAMESPACE, { retryDelaysMs: config.AMQP_RETRY_DELAYS_MS });

  const redis = createRedis(config.REDIS_URL, logger, { keyPrefix: config.REDIS_KEY_PREFIX });
  lifecycle.onStop('redis', closeRedis(redis));
  // Pub/sub takes a connection of its own; channel names carry the key prefix by hand.
  const subscriber = createRedis(config.REDIS_URL, logger, { keyPrefix: config.REDIS_KEY_PREFIX });
  const log = createEventLog(redis, config.log);

  const broker = new Broker(config.AMQP_URL, topology, logger, metrics.publisher);
  lifecycle.onStop('broker', () => broker.close());
  const publisher = new Publisher(broker, metrics.publisher, logger, {
    confirmTimeoutMs: config.AMQP_CONFIRM_TIMEOUT_MS,
  });
  await publisher.start();
  lifecycle.onStop('publisher', () => publisher.close());
  const consumer = new Consumer(
    broker,
    publisher,
    topology.consumers.realtimeEvents,
    createBusHandler({ log, metrics }),
    {
      prefetch: config.REALTIME_PREFETCH,
      logger,
      metrics: metrics.consumer,
    },
  );
  await consumer.start();
  lifecycle.onStop('consumer', () => consumer.stop());

  const auth = createAuth({
    readApiUrl: config.upstream.readApi,
    ...config.tokens,
    cacheMs: config.tokens.apiTokenCacheMs,
  });
  await Promise.all([waitForRedis(redis), waitForRedis(subscriber)]);
  const gateway = new Gateway({
    auth,
    log,
    subscriber,
    keyPrefix: config.REDIS_KEY_PREFIX,
    metrics,
    logger,
    heartbeatMs: config.clients.heartbeatMs,
    limits: config.clients,
  });
  const app = buildApp({
    config,
    logger,
    metrics,
    auth,
    checks: { broker: brokerReady(broker), redis: redisReady(redis) },
    isStopping: () => lifecycle.stopping,
  });
  await gateway.start(app.server);
  broker.start();
  await app.listen({ port: config.http.port, host: config.http.host });
  lifecycle.onStop('http', () => app.close());
  lifecycle.onStop('gateway', () => gateway.stop());
  return { lifecycle, app, broker, redis, subscriber, metrics, topology, gateway, log };
}
export type Realtime = Awaited<ReturnType<typeof startRealtime>>;

/** The gateway's live feed needs Redis at boot. */
async function waitForRedis(redis: ReturnType<typeof createRedis>): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis not ready after 30 s')), 30_000);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

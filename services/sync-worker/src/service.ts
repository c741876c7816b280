import { createDb, postgresReady, watchRlsBypass } from '@switchboard/db';
import {
  Broker,
  brokerReady,
  Consumer,
  closeRedis,
  createHttpApp,
  createLocks,
  createLogger,
  createRedis,
  isUnreachable,
  Lifecycle,
  type Logger,
  Publisher,
  redisReady,
  registerOps,
  sampleQueueDepths,
  switchboardTopology,
} from '@switchboard/platform';
import { OutboxRelay, startChannelResolver } from '@switchboard/worker';
import { registerApi } from './api/index.ts';
import type { Config } from './config.ts';
import type { Deps } from './deps.ts';
import { createBatchHandler } from './handlers/batch.ts';
import { startChannelSecretsPublisher } from './jobs/channel-secrets-publisher.ts';
import { startSyncWorkerJobs } from './jobs/sweeps.ts';
import { createLookupCache } from './lookup-cache.ts';
import { invalidateTouched } from './lookup-keys.ts';
import { createMetrics } from './metrics.ts';
import { knownBusinessAccounts } from './store/business-accounts.ts';

/**
 * Builds and starts the sync-worker: pool, Redis, broker, relay, consumer, HTTP (ops and the read
 * API). Each part
 * registers its stop step as it starts, so `lifecycle.stop()` undoes them in reverse: HTTP,
 * consumer intake (draining in-flight transactions), relay, publisher, broker, Redis, pool.
 */
export async function startSyncWorker(config: Config, opts: { logger?: Logger } = {}) {
  const logger = opts.logger ?? createLogger('sync-worker', config.LOG_LEVEL);
  const lifecycle = new Lifecycle(logger, config.SHUTDOWN_TIMEOUT_MS);
  const metrics = createMetrics();
  const topology = switchboardTopology(config.AMQP_NAMESPACE, { retryDelaysMs: config.AMQP_RETRY_DELAYS_MS });

  const { pool, db } = createDb(config.DATABASE_URL, {
    max: config.DATABASE_POOL_SIZE,
    applicationName: 'sync-worker',
  });
  lifecycle.onStop('postgres', () => pool.end());
  lifecycle.onStop('rls check', watchRlsBypass(db, logger, metrics.rls));
  const redis = createRedis(config.REDIS_URL, logger, { keyPrefix: config.REDIS_KEY_PREFIX });
  lifecycle.onStop('redis', closeRedis(redis));

  const broker = new Broker(config.AMQP_URL, topology, logger, metrics.publisher);
  lifecycle.onStop('broker', () => broker.close());
  const publisher = new Publisher(broker, metrics.publisher, logger, {
    confirmTimeoutMs: config.AMQP_CONFIRM_TIMEOUT_MS,
  });
  await publisher.start();
  lifecycle.onStop('publisher', () => publisher.close());

  // Which channel claims an account, cached while the channels NOTIFY is heard (the worker kit's).
  const { cache: channels, stop: stopChannels } = startChannelResolver(
    { pool, db },
    { ttlMs: config.CHANNEL_CACHE_TTL_MS, maxEntries: config.CHANNEL_CACHE_MAX_ENTRIES, logger },
  );
  lifecycle.onStop('channel listener', stopChannels);
  // The edges verify with the registry's secrets from Redis, never by calling this worker.
  const secretsPublisher = await startChannelSecretsPublisher(
    { db, pool, redis, logger },
    { key: config.channelSecretsKey, everyMs: config.CHANNEL_SECRETS_PUBLISH_EVERY_MS },
  );
  lifecycle.onStop('channel secrets publisher', () => secretsPublisher.stop());

  const lookups = createLookupCache(redis, { ttlSeconds: config.LOOKUP_CACHE_TTL_SECONDS, logger, metrics });
  const deps: Deps = {
    db,
    pool,
    locks: createLocks(redis, logger, metrics.locks),
    logger,
    metrics,
    names: topology.names,
    resolveChannel: channels.resolve,
    now: () => new Date(),
    lock: { ttlMs: config.LOCK_TTL_MS, waitMs: config.LOCK_WAIT_MS },
    lookups,
    beforeCommit: invalidateTouched(lookups),
    businessAccounts: knownBusinessAccounts(),
  };

  const relay = new OutboxRelay({
    pool,
    publisher,
    logger: logger.child({ component: 'relay' }),
    metrics: metrics.relay,
  });
  relay.start();
  lifecycle.onStop('relay', () => relay.stop());

  // Retention and the inactivity close, once per period across replicas (jobs/schedule.ts).
  const jobs = await startSyncWorkerJobs(config, deps);
  lifecycle.onStop('scheduled jobs', () => jobs.close());

  const consumer = new Consumer(
    broker,
    publisher,
    topology.consumers.syncInbound,
    { batch: createBatchHandler(deps) },
    {
      prefetch: config.SYNC_PREFETCH,
      logger,
      metrics: metrics.consumer,
      // Events of an account no active channel claims, by provider (see @switchboard/worker's active-channel.ts).
      parked: metrics.parked,
      batch: {
        maxSize: config.SYNC_BATCH_SIZE,
        concurrency: config.SYNC_BATCH_CONCURRENCY,
        lingerMs: config.SYNC_BATCH_LINGER_MS,
      },
      // Postgres unreachable: stop consuming until it answers, spending no attempt (Redis is
      // optional here: its locks degrade to the Postgres guards).
      pause: { isOutage: isUnreachable, probe: postgresReady(pool) },
    },
  );
  await consumer.start();
  lifecycle.onStop('consumer', () => consumer.stop());
  broker.start();

  // Depth of what this worker consumes, its delay ladder, and what waits for people.
  const depths = sampleQueueDepths(
    broker,
    [
      topology.consumers.syncInbound.name,
      ...topology.queues.map((q) => q.name).filter((n) => n.startsWith(`${topology.consumers.syncInbound.name}.`)),
      topology.names.parked,
    ],
    { gauge: metrics.queueDepth, logger, everyMs: 10_000, namespace: config.AMQP_NAMESPACE },
  );
  lifecycle.onStop('queue depth sampling', async () => depths.stop());

  const app = createHttpApp(logger);
  registerOps(app, {
    registry: metrics.registry,
    http: metrics.http,
    checks: { postgres: postgresReady(pool), redis: redisReady(redis), broker: brokerReady(broker) },
    isStopping: () => lifecycle.stopping,
  });
  registerApi(
    app,
    {
      ...deps,
      redis,
      cache: lookups,
      defaultPhoneRegion: config.DEFAULT_PHONE_REGION,
      lookupTtlSeconds: config.LOOKUP_CACHE_TTL_SECONDS,
    },
    { tokenCacheTtlMs: config.API_TOKEN_CACHE_TTL_MS },
  );
  await app.listen({ port: config.http.port, host: config.http.host });
  lifecycle.onStop('http', () => app.close());

  return {
    lifecycle,
    app,
    deps,
    broker,
    pool,
    redis,
    relay,
    consumer,
    metrics,
    topology,
    channels,
    jobs,
    secretsPublisher,
  };
}
export type SyncWorker = Awaited<ReturnType<typeof startSyncWorker>>;

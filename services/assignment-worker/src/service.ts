import {
  allTenantIds,
  asTenant,
  createDb,
  createTokenAuth,
  type Database,
  postgresReady,
  watchRlsBypass,
} from '@switchboard/db';
import {
  Broker,
  brokerReady,
  Consumer,
  createHttpApp,
  createLogger,
  isUnreachable,
  Lifecycle,
  type Logger,
  Publisher,
  registerOps,
  registerTenantScope,
  sampleQueueDepths,
  switchboardTopology,
} from '@switchboard/platform';
import { OutboxRelay, startChannelResolver } from '@switchboard/worker';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import { assignmentRoutes } from './api/index.ts';
import { createBackground } from './background.ts';
import type { Config } from './config.ts';
import type { Deps } from './deps.ts';
import { createBatchEventHandler } from './handlers/routes.ts';
import { startTimers } from './jobs/timers.ts';
import { createMetrics } from './metrics.ts';

/**
 * Builds and starts the assignment-worker: pool, broker, relay, BullMQ timers, consumer, HTTP
 * (operator commands, queue views, ops). `lifecycle.stop()` undoes it in reverse.
 */
export async function startAssignmentWorker(config: Config, opts: { logger?: Logger; now?: () => Date } = {}) {
  const logger = opts.logger ?? createLogger('assignment-worker', config.LOG_LEVEL);
  const lifecycle = new Lifecycle(logger, config.SHUTDOWN_TIMEOUT_MS);
  const topology = switchboardTopology(config.AMQP_NAMESPACE, { retryDelaysMs: config.AMQP_RETRY_DELAYS_MS });

  const { pool, db } = createDb(config.DATABASE_URL, {
    max: config.DATABASE_POOL_SIZE,
    applicationName: 'assignment-worker',
    // next-chat's claim is a prepared statement; left to choose, Postgres keeps re-planning it
    // (a custom plan, about as long as running it). Its generic plan is the same index walk.
    settings: { plan_cache_mode: 'force_generic_plan' },
  });
  lifecycle.onStop('postgres', () => pool.end());
  const metrics = createMetrics({ chatsWaiting: () => countWaitingChats(db, pool) });
  lifecycle.onStop('rls check', watchRlsBypass(db, logger, metrics.rls));
  const broker = new Broker(config.AMQP_URL, topology, logger, metrics.publisher);
  lifecycle.onStop('broker', () => broker.close());
  const publisher = new Publisher(broker, metrics.publisher, logger, {
    confirmTimeoutMs: config.AMQP_CONFIRM_TIMEOUT_MS,
  });
  await publisher.start();
  lifecycle.onStop('publisher', () => publisher.close());

  // The outbox is shared with the sync-worker: one relay per database leads (advisory lock) and
  // publishes every service's rows, so running this one alone still delivers its events.
  const relay = new OutboxRelay({
    pool,
    publisher,
    logger: logger.child({ component: 'relay' }),
    metrics: metrics.relay,
  });
  relay.start();
  lifecycle.onStop('relay', () => relay.stop());

  // Which channel claims an account: the worker kit's resolver, the sync-worker's too.
  const { cache: channels, stop: stopChannels } = startChannelResolver(
    { pool, db },
    { ttlMs: config.CHANNEL_CACHE_TTL_MS, maxEntries: config.CHANNEL_CACHE_MAX_ENTRIES, logger },
  );
  lifecycle.onStop('channel listener', stopChannels);

  const deps: Deps = {
    db,
    pool,
    names: topology.names,
    metrics,
    logger,
    now: opts.now ?? (() => new Date()),
    timers: { schedule: async () => undefined },
    background: createBackground(logger),
    resolveChannel: channels.resolve,
  };
  const timers = await startTimers(
    {
      redisUrl: config.REDIS_URL,
      prefix: `${config.REDIS_KEY_PREFIX}bull`,
      sweepEveryMs: config.ASSIGNMENT_SWEEP_EVERY_MS,
      logger,
    },
    () => deps,
  );
  deps.timers = timers.timers;
  lifecycle.onStop('timers', () => timers.close());
  // Runs after HTTP and the consumer stopped (nothing new starts) and before the timers close.
  lifecycle.onStop('background work', () => deps.background.drain());

  const consumer = new Consumer(
    broker,
    publisher,
    topology.consumers.assignmentEvents,
    { batch: createBatchEventHandler(deps) },
    {
      prefetch: config.ASSIGNMENT_PREFETCH,
      logger,
      metrics: metrics.consumer,
      // Presence from an account no active channel claims, by provider (see handlers/operator-status.ts).
      parked: metrics.parked,
      // Natural batching: what waits while batches run forms the next one, its chat events in one
      // transaction (handlers/routes.ts); a few batches at once, since dozens of concurrent
      // transactions would only contend on the chats' rows.
      batch: {
        maxSize: config.ASSIGNMENT_BATCH_SIZE,
        concurrency: config.ASSIGNMENT_CONCURRENCY,
        lingerMs: config.ASSIGNMENT_BATCH_LINGER_MS,
      },
      // Postgres or Redis (its timers) unreachable: stop consuming until both answer, no attempt spent.
      pause: {
        isOutage: isUnreachable,
        probe: async () => {
          await postgresReady(pool)();
          await timers.queue.client.then((c) => c.ping());
        },
      },
    },
  );
  await consumer.start();
  lifecycle.onStop('consumer', () => consumer.stop());
  broker.start();

  const q = topology.consumers.assignmentEvents;
  const depths = sampleQueueDepths(broker, [q.name, q.deadQueue], {
    gauge: metrics.queueDepth,
    logger,
    everyMs: 10_000,
    namespace: config.AMQP_NAMESPACE,
  });
  lifecycle.onStop('queue depth sampling', async () => depths.stop());

  const app = createHttpApp(logger);
  registerOps(app, {
    registry: metrics.registry,
    http: metrics.http,
    checks: {
      postgres: postgresReady(pool),
      redis: async () => {
        await timers.queue.client.then((c) => c.ping());
      },
      broker: brokerReady(broker),
    },
    isStopping: () => lifecycle.stopping,
  });
  registerTenantScope(app, createTokenAuth(db, config.API_TOKEN_CACHE_TTL_MS), (api) => assignmentRoutes(api, deps));
  await app.listen({ port: config.http.port, host: config.http.host });
  lifecycle.onStop('http', () => app.close());

  return { lifecycle, app, deps, broker, pool, relay, consumer, metrics, topology, timers };
}
export type AssignmentWorker = Awaited<ReturnType<typeof startAssignmentWorker>>;

/** Chats waiting for an operator, over every tenant: counted tenant by tenant (Row-Level Security). */
async function countWaitingChats(db: Database, pool: pg.Pool): Promise<number> {
  let n = 0;
  for (const tenantId of await allTenantIds(db)) {
    const res = await asTenant(pool, tenantId, (tx) =>
      tx.execute<{ n: number }>(sql`select count(*)::int as n from chats where state = 'waiting_assignment'`),
    );
    n += res.rows[0]?.n ?? 0;
  }
  return n;
}

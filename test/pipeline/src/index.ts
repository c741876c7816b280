import {
  type AssignmentWorker,
  loadConfig as loadAssignmentConfig,
  startAssignmentWorker,
} from '@switchboard/assignment-worker';
import { createDb, devTenant, issueApiToken, seedTenant } from '@switchboard/db';
import { TOKEN_SCOPES } from '@switchboard/domain';
import { loadConfig as loadIngestConfig, startIngest } from '@switchboard/ingest';
import { switchboardTopology } from '@switchboard/platform';
import { loadConfig as loadSyncConfig, startSyncWorker } from '@switchboard/sync-worker';
import { collectEvents, createTestDatabase, testNamespace, testRedisPrefix, testUrls } from '@switchboard/testing';
import { loadConfig as loadWebhooksConfig, startWebhooks } from '@switchboard/webhooks';
import type { FastifyInstance } from 'fastify';

export interface PipelineOptions {
  /** Start the sync-worker in this process (default true); false to run it elsewhere. */
  worker?: boolean;
  /** Start the assignment-worker too (default false); `now` gives it a controllable clock. */
  assignment?: boolean | { now: () => Date };
  env?: Record<string, string>;
}

/**
 * The whole pipeline for one test, isolated: its own database cloned from the template, its own
 * AMQP namespace and Redis prefix, the dev tenant seeded, both edges (ingest, webhooks) and the
 * sync-worker started in-process on free ports, and a collector bound to `switchboard.events` like a downstream
 * consumer. `stop()` shuts everything down and removes what it created.
 */
export async function startPipeline(opts: PipelineOptions = {}) {
  const database = await createTestDatabase();
  const namespace = testNamespace();
  const redisPrefix = testRedisPrefix();
  await redisPrefix.ready;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // The services run as the app role, under Row-Level Security; the test's own pool is the owner's.
    DATABASE_URL: database.appUrl,
    MIGRATION_DATABASE_URL: database.url,
    REDIS_URL: testUrls.redis,
    AMQP_URL: testUrls.amqp,
    AMQP_NAMESPACE: namespace.ns,
    REDIS_KEY_PREFIX: redisPrefix.prefix,
    INGEST_PORT: '0',
    INGEST_HOST: '127.0.0.1',
    WEBHOOKS_PORT: '0',
    WEBHOOKS_HOST: '127.0.0.1',
    SYNC_WORKER_PORT: '0',
    SYNC_WORKER_HOST: '127.0.0.1',
    ASSIGNMENT_WORKER_PORT: '0',
    ASSIGNMENT_WORKER_HOST: '127.0.0.1',
    SHUTDOWN_TIMEOUT_MS: '10000',
    // Fixture messages carry 2023 timestamps: a sweep would close them mid-test. Tests that need
    // the inactivity close call it with their own clock.
    CONVERSATION_INACTIVITY_CLOSE_MINUTES: '0',
    ...opts.env,
  };
  const { pool, db } = createDb(database.url, { max: 4, applicationName: 'test' });
  const tenant = await seedTenant(db, devTenant);
  const { token: apiToken } = await issueApiToken(db, tenant.tenantId, 'test', { scopes: TOKEN_SCOPES });

  // The worker first: it publishes the channel registry's secrets, which the edges then hold.
  const syncConfig = loadSyncConfig(env);
  // A test may shorten the retry ladder (AMQP_RETRY_DELAYS_MS): its TTL queues are removed too.
  const declared = switchboardTopology(namespace.ns, { retryDelaysMs: syncConfig.AMQP_RETRY_DELAYS_MS });
  const worker = opts.worker === false ? undefined : await startSyncWorker(syncConfig);
  const edgeEnv = worker && !env.CHANNEL_SECRETS_REGISTRY ? { ...env, CHANNEL_SECRETS_REGISTRY: 'on' } : env;
  const ingest = await startIngest(loadIngestConfig(edgeEnv));
  const webhooks = await startWebhooks(loadWebhooksConfig(edgeEnv));
  const events = await collectEvents(ingest.topology.names.events);
  await ingest.broker.ready();
  await webhooks.broker.ready();
  await worker?.broker.ready();
  const assignmentClock = typeof opts.assignment === 'object' ? { now: opts.assignment.now } : {};
  const assignment: AssignmentWorker | undefined = opts.assignment
    ? await startAssignmentWorker(loadAssignmentConfig(env), assignmentClock)
    : undefined;
  await assignment?.broker.ready();
  const ingestUrl = baseUrl(ingest.app);
  const webhooksUrl = baseUrl(webhooks.app);
  const workerUrl = worker ? baseUrl(worker.app) : '';
  const assignmentUrl = assignment ? baseUrl(assignment.app) : '';
  const request =
    (base: string) =>
    (path: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
      fetch(`${base}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${init.token ?? apiToken}`,
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
  const post = (base: string) => (path: string, req: { body: string; headers: Record<string, string> }) =>
    fetch(`${base}${path}`, { method: 'POST', body: req.body, headers: req.headers });

  return {
    env,
    /** The database as its owner (the services' is `env.DATABASE_URL`, the app role). */
    ownerDatabaseUrl: database.url,
    tenant,
    pool,
    db,
    events,
    ingest,
    webhooks,
    worker,
    ingestUrl,
    webhooksUrl,
    workerUrl,
    assignment,
    assignmentUrl,
    /** An API token of the dev tenant with every scope (scope tests issue narrower ones). */
    apiToken,
    names: ingest.topology.names,
    /**
     * Publishes the channel registry now and has both edges load it: a test that changed a channel
     * sees the change at once (it reaches them within moments anyway, through NOTIFY and pub/sub).
     */
    async syncChannelSecrets() {
      await worker?.secretsPublisher.publish();
      await Promise.all([ingest.channelSecrets.reload(), webhooks.channelSecrets.reload()]);
    },
    /** POST to the ingest edge (WhatsApp, Mailgun). */
    post: post(ingestUrl),
    /** POST to the webhooks edge (Genesys, helpdesk, agent desk). */
    postWebhooks: post(webhooksUrl),
    /** A request to the sync-worker's read API, as the dev tenant unless `token` says otherwise. */
    api: request(workerUrl),
    /** A request to the assignment-worker's operator API, as the dev tenant unless `token` says otherwise. */
    assignmentApi: request(assignmentUrl),
    async stop() {
      await ingest.lifecycle.stop();
      await webhooks.lifecycle.stop();
      await assignment?.lifecycle.stop();
      await worker?.lifecycle.stop();
      await events.close();
      await pool.end();
      await Promise.allSettled([database.drop(), namespace.cleanup(declared), redisPrefix.cleanup()]);
    },
  };
}
export type Pipeline = Awaited<ReturnType<typeof startPipeline>>;

/** The `http://127.0.0.1:<port>` a started app listens on. */
export function baseUrl(app: FastifyInstance): string {
  const address = app.server.address();
  if (!address || typeof address !== 'object') throw new Error('not listening');
  return `http://127.0.0.1:${address.port}`;
}

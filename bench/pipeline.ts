import { switchboardTopology } from '@switchboard/platform';
import pg from 'pg';
import { EventCollector } from './collector.ts';
import type { ScenarioResult } from './context.ts';
import { cpuUse, sampleCpu } from './cpu.ts';
import type { BenchEnv } from './env.ts';
import { closedLoop, type Sent, type SignedWebhook, signWebhooks, WebhookClient } from './load.ts';
import { metricsDelta, scrapeMetrics } from './metrics.ts';
import { freePort, type ServiceProcess, startService } from './services.ts';
import { perSecond, summarize } from './stats.ts';

/** The edges and the sync-worker as child processes on the bench's own env, plus the event collector. */
export interface Pipeline {
  ingestUrl: string;
  webhooksUrl: string;
  /** The sync-worker (read API). */
  workerUrl: string;
  assignmentUrl: string;
  services: ServiceProcess[];
  collector: EventCollector;
  /** Distinct senders the webhooks are spread over. */
  customers: number;
  pool: pg.Pool;
  stop: () => Promise<void>;
}

export interface PipelineOptions {
  root: string;
  logDir: string;
  profileDir?: string;
  warmup: number;
  customers: number;
  /** `owner`: the services connect as the tables' owner (no Row-Level Security); else the app role. */
  dbRole: 'app' | 'owner';
  serviceEnv: Record<string, string>;
  /** Run the services' TypeScript through tsx rather than their production build. */
  tsx: boolean;
  log: (line: string) => void;
}

export async function startPipeline(env: BenchEnv, opts: PipelineOptions): Promise<Pipeline> {
  const [ingestPort, workerPort, webhooksPort, assignmentPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const common = {
    DATABASE_URL: opts.dbRole === 'owner' ? env.databaseUrl : env.appDatabaseUrl,
    AMQP_URL: env.amqpUrl,
    REDIS_URL: env.redisUrl,
    AMQP_NAMESPACE: env.namespace,
    REDIS_KEY_PREFIX: env.redisPrefix,
    LOG_LEVEL: 'warn',
    INGEST_HOST: '127.0.0.1',
    INGEST_PORT: String(ingestPort),
    SYNC_WORKER_HOST: '127.0.0.1',
    SYNC_WORKER_PORT: String(workerPort),
    WEBHOOKS_HOST: '127.0.0.1',
    WEBHOOKS_PORT: String(webhooksPort),
    ASSIGNMENT_WORKER_HOST: '127.0.0.1',
    ASSIGNMENT_WORKER_PORT: String(assignmentPort),
    SHUTDOWN_TIMEOUT_MS: '15000',
    ...opts.serviceEnv,
  };
  const started: ServiceProcess[] = [];
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2, application_name: 'bench' });
  // A shared server restarted under us (the fault tests do that) fails the run, not the process.
  pool.on('error', () => undefined);
  let collector: EventCollector | undefined;
  const stop = async () => {
    // The edge first, so nothing new enters while the worker drains.
    for (const s of [...started].reverse()) await s.stop();
    await collector?.close();
    await pool.end();
  };
  try {
    const base = {
      root: opts.root,
      logDir: opts.logDir,
      env: common,
      tsx: opts.tsx,
      ...(opts.profileDir ? { profileDir: opts.profileDir } : {}),
    };
    started.push(await startService('sync-worker', { ...base, port: workerPort }));
    started.push(await startService('ingest', { ...base, port: ingestPort }));
    started.push(await startService('webhooks', { ...base, port: webhooksPort }));
    started.push(await startService('assignment-worker', { ...base, port: assignmentPort }));
    collector = await EventCollector.start(
      env.amqpUrl,
      switchboardTopology(env.namespace).names.events,
      'message.received',
    );
    const pipeline: Pipeline = {
      ingestUrl: `http://127.0.0.1:${ingestPort}`,
      webhooksUrl: `http://127.0.0.1:${webhooksPort}`,
      workerUrl: `http://127.0.0.1:${workerPort}`,
      assignmentUrl: `http://127.0.0.1:${assignmentPort}`,
      services: started,
      collector,
      customers: opts.customers,
      pool,
      stop,
    };
    opts.log(
      `services ready (ingest :${ingestPort}, sync-worker :${workerPort}); warming up with ${opts.warmup} webhooks`,
    );
    if (opts.warmup > 0) {
      const warm = await drive(pipeline, env, `wamid.bench-${env.runId}-warmup`, opts.warmup, (client, w) =>
        closedLoop(client, w, 16),
      );
      if (warm.delivered < opts.warmup)
        throw new Error(
          [`warm-up: only ${warm.delivered}/${opts.warmup} events arrived`, ...warm.warnings].join('\n  '),
        );
    }
    return pipeline;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The raw figures of one load run through the pipeline, before a scenario labels them. */
export type Driven = Omit<ScenarioResult, 'scenario' | 'description' | 'offeredRate' | 'notes'>;

export interface DriveOptions {
  maxSockets?: number;
  sign?: typeof signWebhooks;
  /**
   * Waits for consumers further down than the collector (the assignment-worker) once every event
   * arrived, before CPU is sampled, so their tail is counted; returns what they got through.
   */
  downstream?: (prefix: string, lastSent: number) => Promise<NonNullable<ScenarioResult['downstream']>>;
}

/**
 * Sends `count` fresh webhooks with `load`, waits for their `message.received` events, and checks
 * Postgres: one message row and one outbox event per webhook. Throughput is counted from the
 * first POST to the last event; latency per message from its POST to its event.
 */
export async function drive(
  p: Pipeline,
  env: BenchEnv,
  prefix: string,
  count: number,
  load: (client: WebhookClient, webhooks: SignedWebhook[]) => Promise<Sent>,
  { maxSockets = 256, sign = signWebhooks, downstream }: DriveOptions = {},
): Promise<Driven> {
  const webhooks = sign(prefix, count, p.customers);
  const tracker = p.collector.track(
    webhooks.map((w) => w.id),
    count,
  );
  const client = new WebhookClient(p.ingestUrl, maxSockets);
  const pids = Object.fromEntries(p.services.map((s) => [s.name, s.pid]));
  const metricsBefore = await scrapeMetrics(p.services);
  const cpuBefore = sampleCpu(env.databaseName, pids);
  const problemsBefore = p.services.map((s) => s.problems().count);
  let sent: Sent;
  try {
    sent = await load(client, webhooks);
  } finally {
    client.close();
  }
  const accepted = sent.status.reduce((n, s) => n + (s >= 200 && s < 300 ? 1 : 0), 0);
  await tracker.waitAll(15_000);
  if (p.collector.lost) throw new Error('the event collector lost its broker connection (was RabbitMQ restarted?)');
  const lastSent = sent.start.reduce((a, b) => Math.max(a, b), 0);
  const below = downstream ? await downstream(prefix, lastSent) : undefined;
  const cpu = cpuUse(cpuBefore, sampleCpu(env.databaseName, pids), tracker.arrivals.size);
  const serviceMetrics = metricsDelta(metricsBefore, await scrapeMetrics(p.services));
  // A short grace period, so a late duplicate would still be counted.
  await new Promise((r) => setTimeout(r, 250));

  const latencies: number[] = [];
  const acks: number[] = [];
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  webhooks.forEach((w, i) => {
    const start = sent.start[i] ?? 0;
    first = Math.min(first, start);
    last = Math.max(last, start);
    acks.push((sent.answered[i] ?? 0) - start);
    const arrived = tracker.arrivals.get(w.id);
    if (arrived !== undefined) latencies.push(arrived - start);
  });
  const durationMs = tracker.lastArrival - first;
  const { rows } = await p.pool.query<{ rows: string; events: string }>(
    `select (select count(*) from messages where provider_message_id like $1) as rows,
            (select count(*) from outbox where routing_key = 'message.received'
               and envelope->'data'->>'providerMessageId' like $1) as events`,
    [`${prefix}-%`],
  );
  return {
    messages: count,
    delivered: tracker.arrivals.size,
    durationMs: Math.round(durationMs),
    throughput: perSecond(tracker.arrivals.size, durationMs),
    drainMs: Math.max(0, Math.round(tracker.lastArrival - last)),
    latency: summarize(latencies),
    ack: summarize(acks),
    errors: count - accepted,
    duplicates: tracker.duplicates,
    stored: { rows: Number(rows[0]?.rows ?? 0), events: Number(rows[0]?.events ?? 0) },
    cpu,
    ...(below ? { downstream: below } : {}),
    serviceMetrics,
    warnings: p.services.flatMap((s, i) => {
      const { count, latest } = s.problems();
      const fresh = count - (problemsBefore[i] ?? 0);
      return fresh > 0 ? [`${s.name} logged ${fresh} warnings/errors, latest: ${latest.join(' | ')}`] : [];
    }),
  };
}

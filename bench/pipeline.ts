import { switchboardTopology } from '@switchboard/platform';
import amqp from 'amqplib';
import pg from 'pg';
import { EventCollector } from './collector.ts';
import { cpuUse, sampleCpu } from './cpu.ts';
import type { BenchEnv } from './env.ts';
import { closedLoop, type Sent, type SignedWebhook, signWebhooks, WebhookClient } from './load.ts';
import { metricsDelta, scrapeMetrics } from './metrics.ts';
import type { ScenarioResult } from './result.ts';
import { freePort, type ServiceProcess, startService } from './services.ts';
import { perSecond, summarize } from './stats.ts';

/**
 * Which services a scenario runs. `edge+sync`: ingest and the sync-worker (with its relay), and
 * only the queues they consume, as the "ingest + sync-worker" targets name; `all`: every service
 * (ingest, webhooks, sync-worker, assignment-worker) and every queue the topology declares, as
 * users run it.
 */
export type PipelineShape = 'edge+sync' | 'all';

export type PipelineService = 'sync-worker' | 'ingest' | 'webhooks' | 'assignment-worker' | 'realtime';

/** Start order: the consumers before the edges that feed them. With `gateway`, `all` runs the realtime gateway too. */
export function servicesOf(shape: PipelineShape, gateway: boolean): PipelineService[] {
  if (shape === 'edge+sync') return ['sync-worker', 'ingest'];
  return ['sync-worker', 'ingest', 'webhooks', 'assignment-worker', ...(gateway ? (['realtime'] as const) : [])];
}

/**
 * Queues the edge+sync shape removes after its services declared the whole topology: those of
 * consumers it does not run (the assignment-worker's and the realtime gateway's). Each service
 * declares every queue on connect (so `mandatory` publishes always route), which would otherwise
 * make the broker keep two quorum queues per message that nothing in this shape consumes. The
 * relay publishes without `mandatory`, so an event that no longer routes is simply not stored.
 */
const FOREIGN_CONSUMERS = ['assignment-worker.events', 'realtime.events'];

/** The edges and the sync-worker as child processes on the bench's own env, plus the event collector. */
export interface Pipeline {
  shape: PipelineShape;
  ingestUrl: string;
  webhooksUrl: string;
  /** The sync-worker (read API). */
  workerUrl: string;
  assignmentUrl: string;
  /** The services running in this shape (CPU, metrics and warnings are read from these). */
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
  /** `all` also runs the realtime gateway (one replica), consuming `realtime.events`. */
  gateway: boolean;
  log: (line: string) => void;
}

/**
 * One set of services for the whole run, reshaped as scenarios ask: `get(shape)` starts what the
 * shape needs and is not running, stops what it does not need, and warms up what it started.
 * Scenarios run one at a time, so there is never more than one shape up.
 */
export class Pipelines {
  #current: Promise<Pipeline> | undefined;
  #stopped = false;
  #setup: Promise<Setup> | undefined;

  constructor(
    private readonly env: BenchEnv,
    private readonly opts: PipelineOptions,
  ) {}

  get(shape: PipelineShape): Promise<Pipeline> {
    if (this.#stopped) return Promise.reject(new Error('the pipeline was stopped'));
    const previous = this.#current;
    this.#current = (async () => {
      const before = previous ? await previous.catch(() => undefined) : undefined;
      if (before?.shape === shape) return before;
      this.#setup ??= setUp(this.env, this.opts);
      return reshape(await this.#setup, shape, this.env, this.opts);
    })();
    return this.#current;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#current?.catch(() => undefined);
    const setup = await this.#setup?.catch(() => undefined);
    await setup?.stop();
  }
}

interface Setup {
  ports: Record<PipelineService, number>;
  running: Map<PipelineService, ServiceProcess>;
  collector: EventCollector;
  pool: pg.Pool;
  common: Record<string, string>;
  stop: () => Promise<void>;
}

async function setUp(env: BenchEnv, opts: PipelineOptions): Promise<Setup> {
  const ports = {
    'sync-worker': await freePort(),
    ingest: await freePort(),
    webhooks: await freePort(),
    'assignment-worker': await freePort(),
    realtime: await freePort(),
  };
  const common = {
    DATABASE_URL: opts.dbRole === 'owner' ? env.databaseUrl : env.appDatabaseUrl,
    AMQP_URL: env.amqpUrl,
    REDIS_URL: env.redisUrl,
    AMQP_NAMESPACE: env.namespace,
    REDIS_KEY_PREFIX: env.redisPrefix,
    LOG_LEVEL: 'warn',
    INGEST_HOST: '127.0.0.1',
    INGEST_PORT: String(ports.ingest),
    SYNC_WORKER_HOST: '127.0.0.1',
    SYNC_WORKER_PORT: String(ports['sync-worker']),
    WEBHOOKS_HOST: '127.0.0.1',
    WEBHOOKS_PORT: String(ports.webhooks),
    ASSIGNMENT_WORKER_HOST: '127.0.0.1',
    ASSIGNMENT_WORKER_PORT: String(ports['assignment-worker']),
    REALTIME_HOST: '127.0.0.1',
    REALTIME_PORT: String(ports.realtime),
    REALTIME_READ_API_URL: `http://127.0.0.1:${ports['sync-worker']}`,
    REALTIME_ASSIGNMENT_API_URL: `http://127.0.0.1:${ports['assignment-worker']}`,
    SHUTDOWN_TIMEOUT_MS: '15000',
    ...opts.serviceEnv,
  };
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2, application_name: 'bench' });
  // A shared server restarted under us (the fault tests do that) fails the run, not the process.
  pool.on('error', () => undefined);
  const running = new Map<PipelineService, ServiceProcess>();
  let collector: EventCollector | undefined;
  const stop = async () => {
    // The edges first, so nothing new enters while the workers drain.
    for (const s of [...running.values()].reverse()) await s.stop();
    running.clear();
    await collector?.close();
    await pool.end();
  };
  try {
    collector = await EventCollector.start(
      env.amqpUrl,
      switchboardTopology(env.namespace).names.events,
      'message.received',
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, running, collector, pool, common, stop };
}

async function reshape(s: Setup, shape: PipelineShape, env: BenchEnv, opts: PipelineOptions): Promise<Pipeline> {
  const wanted = servicesOf(shape, opts.gateway);
  for (const [name, service] of [...s.running].reverse()) {
    if (wanted.includes(name)) continue;
    await service.stop();
    s.running.delete(name);
  }
  const base = {
    root: opts.root,
    logDir: opts.logDir,
    env: s.common,
    tsx: opts.tsx,
    ...(opts.profileDir ? { profileDir: opts.profileDir } : {}),
  };
  const fresh: PipelineService[] = [];
  for (const name of wanted) {
    if (s.running.has(name)) continue;
    s.running.set(name, await startService(name, { ...base, port: s.ports[name] }));
    fresh.push(name);
  }
  // Every service declares the whole topology when it starts; a service started later
  // redeclares what an earlier shape removed.
  if (shape === 'edge+sync') await deleteForeignQueues(env);
  const pipeline: Pipeline = {
    shape,
    ingestUrl: `http://127.0.0.1:${s.ports.ingest}`,
    webhooksUrl: `http://127.0.0.1:${s.ports.webhooks}`,
    workerUrl: `http://127.0.0.1:${s.ports['sync-worker']}`,
    assignmentUrl: `http://127.0.0.1:${s.ports['assignment-worker']}`,
    services: wanted.map((name) => s.running.get(name) as ServiceProcess),
    collector: s.collector,
    customers: opts.customers,
    pool: s.pool,
    stop: s.stop,
  };
  opts.log(
    `services ${shape}: ${wanted.map((n) => `${n} :${s.ports[n]}`).join(', ')}` +
      (fresh.length > 0 && opts.warmup > 0 ? `; warming up ${fresh.join(', ')} with ${opts.warmup} webhooks` : ''),
  );
  if (fresh.length > 0 && opts.warmup > 0) {
    const warm = await drive(pipeline, env, `wamid.bench-${env.runId}-warmup-${shape}`, opts.warmup, (client, w) =>
      closedLoop(client, w, 16),
    );
    if (warm.delivered < opts.warmup)
      throw new Error([`warm-up: only ${warm.delivered}/${opts.warmup} events arrived`, ...warm.warnings].join('\n  '));
  }
  return pipeline;
}

async function deleteForeignQueues(env: BenchEnv): Promise<void> {
  const names = switchboardTopology(env.namespace)
    .queues.map((q) => q.name)
    .filter((name) =>
      FOREIGN_CONSUMERS.some((c) => name === `${env.namespace}${c}` || name.startsWith(`${env.namespace}${c}.`)),
    );
  const conn = await amqp.connect(env.amqpUrl);
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createChannel();
    for (const name of names) await ch.deleteQueue(name);
    await ch.close();
  } finally {
    await conn.close().catch(() => undefined);
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
   * `accepted`: the webhooks answered 2xx, the most it can get (a refused one makes no event).
   */
  downstream?: (
    prefix: string,
    lastSent: number,
    accepted: number,
  ) => Promise<NonNullable<ScenarioResult['downstream']>>;
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
  const below = downstream ? await downstream(prefix, lastSent, accepted) : undefined;
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
  const { rows } = await p.pool.query<{ rows: string }>(
    'select count(*) as rows from messages where provider_message_id like $1',
    [`${prefix}-%`],
  );
  const events = await eventRows(p.pool, prefix);
  const stages = stagesOf(events, webhooks, sent, tracker.arrivals);
  return {
    messages: count,
    delivered: tracker.arrivals.size,
    durationMs: Math.round(durationMs),
    throughput: perSecond(tracker.arrivals.size, durationMs),
    drainMs: Math.max(0, Math.round(tracker.lastArrival - last)),
    latency: summarize(latencies),
    ack: summarize(acks),
    stages,
    errors: count - accepted,
    duplicates: tracker.duplicates,
    stored: { rows: Number(rows[0]?.rows ?? 0), events: events.length },
    cpu,
    ...(below ? { downstream: below } : {}),
    serviceMetrics,
    warnings: [
      ...(client.failures.size > 0
        ? [
            `${count - accepted} webhooks got no 2xx: ${[...client.failures].map(([kind, n]) => `${n} × ${kind}`).join(', ')}`,
          ]
        : []),
      ...p.services.flatMap((s, i) => {
        const { count, latest } = s.problems();
        const fresh = count - (problemsBefore[i] ?? 0);
        return fresh > 0 ? [`${s.name} logged ${fresh} warnings/errors, latest: ${latest.join(' | ')}`] : [];
      }),
    ],
  };
}

interface EventRow {
  id: string;
  created: number;
  published: number | null;
}

/** The run's `message.received` outbox rows: when each one's transaction began, and was published. */
async function eventRows(pool: pg.Pool, prefix: string): Promise<EventRow[]> {
  const { rows } = await pool.query<EventRow>(
    `select envelope->'data'->>'providerMessageId' as id,
            extract(epoch from created_at) * 1000 as created,
            extract(epoch from published_at) * 1000 as published
       from outbox
      where routing_key = 'message.received' and envelope->'data'->>'providerMessageId' like $1`,
    [`${prefix}-%`],
  );
  return rows;
}

/**
 * Splits each message's latency at its outbox row: `created_at` is when the sync-worker's
 * transaction began, `published_at` when the relay marked it confirmed. The bench's clock
 * (performance.now()) is put on the wall clock Postgres stamps with; both read this machine's.
 */
function stagesOf(
  rows: EventRow[],
  webhooks: SignedWebhook[],
  sent: Sent,
  arrivals: ReadonlyMap<string, number>,
): NonNullable<Driven['stages']> {
  const at = new Map(rows.map((r) => [r.id, r]));
  const origin = performance.timeOrigin;
  const queued: number[] = [];
  const relayed: number[] = [];
  const applied: number[] = [];
  webhooks.forEach((w, i) => {
    const row = at.get(w.id);
    const start = sent.start[i];
    if (!row || start === undefined) return;
    const created = Number(row.created);
    queued.push(created - (origin + start));
    if (row.published !== null) relayed.push(Number(row.published) - created);
    const arrived = arrivals.get(w.id);
    if (arrived !== undefined) applied.push(origin + arrived - created);
  });
  return { queued: summarize(queued), relayed: summarize(relayed), applied: summarize(applied) };
}

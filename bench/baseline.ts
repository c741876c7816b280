import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import pg from 'pg';
import { insertInBatches } from './batch-insert.ts';
import type { BenchContext } from './context.ts';
import { type CpuSample, cpuUse, sampleCpu } from './cpu.ts';
import type { Driven } from './pipeline.ts';
import { perSecond, summarize } from './stats.ts';

/**
 * The bare loop the pipeline is measured against, on the same broker and database: a confirm
 * channel publishes to a quorum queue, a consumer (prefetch 500) gathers deliveries into
 * multi-row INSERTs (up to 100 rows or 5 ms, up to 4 at once on a pool of 4), and acks them once
 * their INSERT committed. Nothing else: no HTTP, no signature, no schema validation, no inbox, no
 * outbox, no lock, no second hop.
 */
export interface BaselineOptions {
  databaseUrl: string;
  amqpUrl: string;
  queue: string;
  messages: number;
  /** Max throughput: at most `window` messages between publish and commit. */
  window?: number;
  /** Fixed rate (open loop): one publish every 1/rate s, whatever the backlog. */
  rate?: number;
  /** Samples CPU use; called once connected and again before the connections close. */
  sampleCpu: () => CpuSample;
}

const PREFETCH = 500;
const POOL_SIZE = 4;

/** A body the size and shape of a canonical inbound event (about 1 KB of CloudEvents JSON). */
const body = (id: string) =>
  Buffer.from(
    JSON.stringify({
      specversion: '1.0',
      id,
      source: '/bench/baseline',
      type: 'bench.baseline.v1',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: { from: '16315551181', messageId: `wamid.${id}`, type: 'text', text: 'x'.repeat(600) },
    }),
  );

export async function prepareBaseline(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`create table if not exists bench_baseline (
      id bigserial primary key,
      message_id uuid not null unique,
      body jsonb not null,
      stored_at timestamptz not null default now())`);
  } finally {
    await client.end();
  }
}

export async function runBaseline(opts: BaselineOptions): Promise<Omit<Driven, 'serviceMetrics' | 'warnings'>> {
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: POOL_SIZE, application_name: 'bench-baseline' });
  // A shared server restarted under us (the fault tests do that) fails the run, not the process.
  pool.on('error', () => undefined);
  const pubConn = await amqp.connect(opts.amqpUrl, { clientProperties: { connection_name: 'bench-baseline-pub' } });
  const subConn = await amqp.connect(opts.amqpUrl, { clientProperties: { connection_name: 'bench-baseline-sub' } });
  for (const conn of [pubConn, subConn]) conn.on('error', () => undefined);
  try {
    // Open every pooled connection first, so their backends are counted from the first sample.
    const clients = await Promise.all(Array.from({ length: POOL_SIZE }, () => pool.connect()));
    for (const c of clients) c.release();
    const pub = await pubConn.createConfirmChannel();
    await pub.assertQueue(opts.queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const sub = await subConn.createChannel();
    await sub.prefetch(PREFETCH);

    const n = opts.messages;
    const ids: string[] = Array.from({ length: n }, () => randomUUID());
    const index = new Map(ids.map((id, i) => [id, i]));
    const published = new Float64Array(n);
    const confirmed = new Float64Array(n);
    const committed = new Float64Array(n);
    let done = 0;
    let errors = 0;
    let duplicates = 0;
    let lastCommit = 0;
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((r) => {
      finish = r;
    });
    let wake: (() => void) | undefined;

    const store = insertInBatches(pool, sub, (batch, at) => {
      for (const m of batch) {
        const i = index.get(String(m.properties.messageId));
        if (i === undefined) continue;
        if (committed[i]) duplicates++;
        else {
          committed[i] = at;
          done++;
        }
      }
      lastCommit = at;
      wake?.();
      if (done === n) finish();
    });
    await sub.consume(opts.queue, (msg) => msg && store.add(msg));

    const publishOne = (i: number, at: number) => {
      const id = ids[i] as string;
      published[i] = at;
      return pub.publish('', opts.queue, body(id), { persistent: true, messageId: id }, (err) => {
        if (err) errors++;
        else confirmed[i] = performance.now();
      });
    };
    // Nothing committed for 15 s means something is broken: fail instead of hanging.
    let seen = -1;
    let watchdog: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      watchdog = setInterval(() => {
        if (done === seen) reject(new Error(`baseline stalled at ${done}/${n} committed`));
        seen = done;
      }, 15_000);
    });
    stalled.catch(() => undefined);
    const failure = Promise.race([store.failed, stalled]);

    const cpuBefore = opts.sampleCpu();
    const window = opts.window ?? n;
    if (opts.rate) {
      const interval = 1000 / opts.rate;
      const t0 = performance.now() + 20;
      for (let i = 0; i < n; ) {
        const now = performance.now();
        for (; i < n && t0 + i * interval <= now; i++) publishOne(i, t0 + i * interval);
        if (i < n) await new Promise((r) => setTimeout(r, Math.max(0, t0 + i * interval - performance.now())));
      }
    } else {
      for (let i = 0; i < n; i++) {
        while (i - done >= window) await Promise.race([new Promise<void>((r) => (wake = r)), failure]);
        if (!publishOne(i, performance.now())) await new Promise((r) => pub.once('drain', r));
      }
    }
    try {
      await Promise.race([finished, failure]);
    } finally {
      clearInterval(watchdog);
    }
    await pub.waitForConfirms();
    const cpu = cpuUse(cpuBefore, opts.sampleCpu(), done);

    const latencies = Array.from(committed, (c, i) => c - (published[i] ?? 0)).filter((_, i) => committed[i]);
    const acks = Array.from(confirmed, (c, i) => c - (published[i] ?? 0)).filter((_, i) => confirmed[i]);
    const durationMs = lastCommit - (published[0] ?? 0);
    const { rows } = await pool.query<{ n: string }>('select count(*) as n from bench_baseline');
    await pool.query('truncate bench_baseline');
    return {
      messages: n,
      delivered: done,
      durationMs: Math.round(durationMs),
      throughput: perSecond(done, durationMs),
      drainMs: Math.round(lastCommit - published.reduce((a, b) => Math.max(a, b), 0)),
      latency: summarize(latencies),
      ack: summarize(acks),
      errors,
      duplicates,
      stored: { rows: Number(rows[0]?.n ?? 0), events: done },
      cpu,
    };
  } finally {
    await subConn.close().catch(() => undefined);
    await pubConn.close().catch(() => undefined);
    await pool.end();
  }
}

/** The bare loop on the bench's own database and namespace, warmed up first; `label` names its queue. */
export async function baseline(
  ctx: BenchContext,
  label: string,
  opts: { messages: number; window?: number; rate?: number },
) {
  const { databaseUrl, amqpUrl, namespace } = ctx.env;
  await prepareBaseline(databaseUrl);
  const queue = `${namespace}bench.baseline-${label}`;
  ctx.env.extraQueues.add(queue);
  ctx.log(`baseline ${label}: warming up`);
  const sample = () => sampleCpu(ctx.env.databaseName);
  await runBaseline({ databaseUrl, amqpUrl, queue, messages: 2_000, window: 500, sampleCpu: sample });
  ctx.log(`baseline ${label}: ${opts.messages} messages`);
  const run = await runBaseline({ databaseUrl, amqpUrl, queue, ...opts, sampleCpu: sample });
  return { ...run, serviceMetrics: {}, warnings: [] };
}

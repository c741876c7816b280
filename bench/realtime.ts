import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext, Scenario, ScenarioResult } from './context.ts';
import { cpuUse, sampleCpu } from './cpu.ts';
import { metricsDelta, scrapeMetrics } from './metrics.ts';
import { benchClock, closeFleet, connectFleet, type FleetClient } from './realtime-clients.ts';
import { describeHops, latencyByHop } from './realtime-hops.ts';
import { publishAtRate, RATE } from './realtime-load.ts';
import { freePort, type ServiceProcess, startService } from './services.ts';
import { perSecond, round, summarize } from './stats.ts';

/**
 * The realtime gateway (issue 14): 2,000 clients each subscribed to its own conversation plus 50
 * on `queue`, 500 events/s published on `switchboard.events` as the outbox relay would (nine in
 * ten `message.status.changed` for one conversation, one in ten `chat.assigned`, which also goes
 * to the 50 queue clients), bus → client latency from each event's due time, every frame counted
 * per client. Run with one gateway replica and with two (clients split between them).
 */
const CONVERSATION_CLIENTS = 2_000;
const QUEUE_CLIENTS = 50;
const TOKEN = 'bench-realtime-token';

function readApiStub(tenantId: string) {
  return http.createServer((req, res) => {
    const ok = req.url === '/tenant' && req.headers.authorization === `Bearer ${TOKEN}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? { id: tenantId, slug: 'bench' } : { error: 'unauthorized' }));
  });
}

const rssKb = (pid: number | undefined) =>
  Number(/VmRSS:\s+(\d+)/.exec(pid === undefined ? '' : readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

async function startGateways(ctx: BenchContext, replicas: number, readApiUrl: string): Promise<ServiceProcess[]> {
  const started: ServiceProcess[] = [];
  for (let i = 0; i < replicas; i++) {
    const port = await freePort();
    const env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      REDIS_URL: ctx.env.redisUrl,
      AMQP_URL: ctx.env.amqpUrl,
      AMQP_NAMESPACE: ctx.env.namespace,
      REDIS_KEY_PREFIX: ctx.env.redisPrefix,
      REALTIME_PORT: String(port),
      REALTIME_HOST: '127.0.0.1',
      REALTIME_READ_API_URL: readApiUrl,
      // The log keeps the whole run, so the hop split finds every event's append time in it.
      REALTIME_REPLAY_MAX_EVENTS: '100000',
      ...ctx.options.serviceEnv,
    };
    const root = new URL('..', import.meta.url).pathname;
    const profile = ctx.profileDir ? { profileDir: ctx.profileDir } : {};
    started.push(
      await startService('realtime', {
        root,
        logDir: `${root}bench/results`,
        env,
        port,
        tsx: ctx.options.tsx,
        ...profile,
      }),
    );
  }
  return started;
}

function tally(clients: FleetClient[], expected: Expected) {
  const byConversation = new Map<string, FleetClient>();
  for (const c of clients) if (c.topics[0]?.startsWith('conversation:')) byConversation.set(c.topics[0].slice(13), c);
  const queueClients = clients.filter((c) => c.topics[0] === 'queue');
  let wanted = 0;
  let arrived = 0;
  let duplicates = 0;
  for (const e of expected) {
    const receivers = [byConversation.get(e.conversationId), ...(e.toQueue ? queueClients : [])];
    for (const r of receivers) {
      wanted++;
      const n = r?.seen.get(e.id) ?? 0;
      if (n > 0) arrived++;
      if (n > 1) duplicates += n - 1;
    }
  }
  return { wanted, arrived, duplicates };
}

type Expected = Awaited<ReturnType<typeof publishAtRate>>['expected'];

/** Waits (up to 60 s) until every frame owed arrived; on a loaded machine a late frame is latency, not loss. */
async function awaitFrames(clients: FleetClient[], expected: Expected) {
  const deadline = benchClock() + 60_000;
  let counts = tally(clients, expected);
  while (counts.arrived < counts.wanted && benchClock() < deadline) {
    await sleep(100);
    counts = tally(clients, expected);
  }
  return counts;
}

interface Setup {
  name: string;
  tenantId: string;
  gateways: ServiceProcess[];
  clients: FleetClient[];
  conversations: string[];
  /** Gateway RSS growth per connection over the connect phase, KiB. */
  memPerConn: number;
}

async function measure(ctx: BenchContext, s: Setup): Promise<ScenarioResult> {
  const pids = Object.fromEntries(s.gateways.map((g, i) => [`realtime-${i + 1}`, g.pid]));
  const seconds = Math.min(ctx.options.durationS, 30);
  ctx.log(`${s.name}: ${RATE} events/s for ${seconds} s`);
  const metricsBefore = await scrapeMetrics(s.gateways);
  const cpuBefore = sampleCpu(ctx.env.databaseName, pids);
  const t0 = benchClock();
  const { expected, lastSentAt } = await publishAtRate(ctx, s.tenantId, s.conversations, seconds);
  const counts = await awaitFrames(s.clients, expected);
  const lastArrival = benchClock();
  const cpu = cpuUse(cpuBefore, sampleCpu(ctx.env.databaseName, pids), counts.arrived);
  const gatewayMs = Object.keys(pids).reduce((sum, k) => sum + (cpu.msPerMessage[k] ?? 0), 0);
  const dropped = s.clients.filter((c) => c.closedEarly).length;
  const hops = await latencyByHop(ctx, s.tenantId, s.clients, expected);
  return {
    scenario: s.name,
    description: `${s.clients.length} WebSocket clients on ${s.gateways.length} gateway(s), ${RATE} events/s on the bus`,
    messages: counts.wanted,
    delivered: counts.arrived,
    durationMs: round(lastArrival - t0, 0),
    throughput: perSecond(counts.arrived, lastArrival - t0),
    drainMs: round(Math.max(0, lastArrival - lastSentAt), 0),
    offeredRate: RATE,
    latency: summarize(s.clients.flatMap((c) => c.latencies)),
    ack: summarize([]),
    errors: dropped,
    duplicates: counts.duplicates,
    stored: null,
    cpu,
    serviceMetrics: metricsDelta(metricsBefore, await scrapeMetrics(s.gateways)),
    warnings: s.gateways.flatMap((g) => g.problems().latest.map((l) => `${g.name}: ${l}`)),
    notes: [
      `${expected.length} events → ${counts.wanted} frames owed (each to its conversation's client; chat events also to the ${QUEUE_CLIENTS} queue clients)`,
      `gateway CPU ${round(gatewayMs * 1000, 1)} µs per delivered frame`,
      `gateway memory ${s.memPerConn} KiB per connection (RSS growth over the connect phase)`,
      `${dropped} clients dropped`,
      describeHops(hops),
    ],
  };
}

async function runRealtime(ctx: BenchContext, replicas: number): Promise<ScenarioResult> {
  const name = replicas === 1 ? 'realtime' : `realtime-${replicas}`;
  const tenantId = randomUUID();
  const stub = readApiStub(tenantId).listen(0, '127.0.0.1');
  await new Promise((r) => stub.once('listening', r));
  const gateways: ServiceProcess[] = [];
  let clients: FleetClient[] = [];
  try {
    gateways.push(
      ...(await startGateways(ctx, replicas, `http://127.0.0.1:${(stub.address() as { port: number }).port}`)),
    );
    const rssBefore = gateways.reduce((sum, g) => sum + rssKb(g.pid), 0);
    const conversations = Array.from({ length: CONVERSATION_CLIENTS }, () => randomUUID());
    const topics = [
      ...conversations.map((c) => [`conversation:${c}`]),
      ...Array.from({ length: QUEUE_CLIENTS }, () => ['queue']),
    ];
    ctx.log(`${name}: connecting ${topics.length} clients to ${replicas} gateway(s)`);
    clients = await connectFleet(
      gateways.map((g) => g.url),
      TOKEN,
      topics,
    );
    const memPerConn = round((gateways.reduce((sum, g) => sum + rssKb(g.pid), 0) - rssBefore) / topics.length, 1);
    return await measure(ctx, { name, tenantId, gateways, clients, conversations, memPerConn });
  } finally {
    await closeFleet(clients);
    for (const g of gateways) await g.stop();
    stub.close();
  }
}

export const realtimeScenarios: Scenario[] = [
  {
    name: 'realtime',
    description: '2,050 WebSocket clients, 500 events/s on the bus → one gateway replica',
    run: (ctx) => runRealtime(ctx, 1),
  },
  {
    name: 'realtime-2',
    description: 'the same with two gateway replicas (clients split between them)',
    run: (ctx) => runRealtime(ctx, 2),
  },
];

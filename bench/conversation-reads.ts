import http from 'node:http';
import { createDb, issueApiToken } from '@switchboard/db';
import type { BenchContext, ScenarioResult } from './context.ts';
import { seedConversationStore } from './conversation-store.ts';
import { cpuUse, sampleCpu } from './cpu.ts';
import { metricsDelta, scrapeMetrics } from './metrics.ts';
import { perSecond, round, summarize } from './stats.ts';

/**
 * The conversation API on a large store (issue 18): 1,000,000 messages in 100,000 conversations
 * of the dev tenant and 9 tenants of 5,000 conversations beside it, written by set-based SQL
 * (bench/conversation-store.ts). Timed one at a time over keep-alive, uncached (these routes read
 * Postgres directly): the list with each filter, a conversation's context and status, and the
 * inactivity sweep's selection (what it costs every minute when nothing is due), and the 30-day
 * analytics reports: conversations, and operators over two assignments per conversation with an
 * agent (seeded here). Targets: list and context p99 < 20 ms, a report < 200 ms.
 */
const SHAPE = { conversations: 100_000, messagesEach: 10, otherTenants: 9, otherConversations: 5_000, days: 60 };
const REQUESTS = 1_000;

type Sampled = { name: string; paths: string[] };

export async function runConversationReadsBench(ctx: BenchContext): Promise<ScenarioResult> {
  const p = await ctx.pipeline('all');
  ctx.log('conversation-reads: seeding 100,000 conversations × 10 messages (+ 9 tenants × 5,000)');
  const t0 = performance.now();
  const { tenantId } = await seedConversationStore(p.pool, { ...SHAPE, now: new Date() }, ctx.log);
  const assignments = await seedAssignments(p.pool);
  const seedMs = Math.round(performance.now() - t0);
  const { pool, db } = createDb(ctx.env.databaseUrl, { max: 1, applicationName: 'bench-conversations' });
  const { token } = await issueApiToken(db, tenantId, 'bench conversations').finally(() => pool.end());
  const ids = (
    await p.pool.query<{ id: string }>(
      'select id from conversations where tenant_id = $1 order by md5(id::text) limit 500',
      [tenantId],
    )
  ).rows.map((r) => r.id);

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (path: string) =>
    new Promise<number>((resolve) => {
      const req = http.request(
        new URL(path, p.workerUrl),
        { agent, headers: { authorization: `Bearer ${token}` } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', () => resolve(0));
      req.end();
    });
  const names = ['Silva', 'Novak', 'Okafor', 'Tanaka'];
  const sets: Sampled[] = [
    { name: 'list status=open', paths: ['/conversations?status=open&limit=50'] },
    { name: 'list agent', paths: Array.from({ length: 50 }, (_, i) => `/conversations?agent=op-${i}&limit=50`) },
    { name: 'list channel=whatsapp', paths: ['/conversations?channel=whatsapp&limit=50'] },
    {
      name: 'list q=<name and number>',
      paths: Array.from({ length: 100 }, (_, i) => `/conversations?q=${names[i % 4]}%20${1000 + i * 37}&limit=50`),
    },
    { name: 'context', paths: ids.map((id) => `/conversations/${id}/context`) },
    { name: 'status', paths: ids.map((id) => `/conversations/${id}/status`) },
  ];
  const pids = Object.fromEntries(p.services.map((s) => [s.name, s.pid]));
  const metricsBefore = await scrapeMetrics(p.services);
  const cpuBefore = sampleCpu(ctx.env.databaseName, pids);
  const all: number[] = [];
  const lists: number[] = [];
  const notes: string[] = [];
  let errors = 0;
  const tRun = performance.now();
  for (const set of sets) {
    for (const path of set.paths.slice(0, 20)) await get(path); // warm the plans and the buffer cache
    const lat = new Float64Array(REQUESTS);
    for (let i = 0; i < REQUESTS; i++) {
      const path = set.paths[(i * 7919) % set.paths.length] as string;
      const start = performance.now();
      const status = await get(path);
      lat[i] = performance.now() - start;
      if (status !== 200) errors++;
    }
    const s = summarize(lat);
    all.push(...lat);
    if (set.name.startsWith('list')) lists.push(...lat);
    notes.push(`${set.name}: p50 ${s.p50} ms, p95 ${s.p95} ms, p99 ${s.p99} ms, max ${s.max} ms`);
  }
  const durationMs = performance.now() - tRun;
  notes.push(await sweepCost(p.pool));
  const report = new Float64Array(30);
  const to = new Date();
  const from = new Date(to.getTime() - 30 * 86_400_000);
  for (const [i, groupBy] of ['day', 'channel', 'agent'].flatMap((g) => Array(10).fill(g) as string[]).entries()) {
    const path = `/analytics/conversations?from=${from.toISOString()}&to=${to.toISOString()}&groupBy=${groupBy}`;
    const start = performance.now();
    if ((await get(path)) !== 200) errors++;
    report[i] = performance.now() - start;
  }
  const r = summarize(report);
  notes.push(`30-day analytics report (10 each by day, channel, agent): p50 ${r.p50} ms, max ${r.max} ms`);
  const operators = new Float64Array(30);
  for (const [i, groupBy] of ['day', 'channel', 'operator'].flatMap((g) => Array(10).fill(g) as string[]).entries()) {
    const path = `/analytics/operators?from=${from.toISOString()}&to=${to.toISOString()}&groupBy=${groupBy}`;
    const start = performance.now();
    if ((await get(path)) !== 200) errors++;
    operators[i] = performance.now() - start;
  }
  const o = summarize(operators);
  notes.push(
    `30-day operator report over ${assignments} assignments (10 each by day, channel, operator): p50 ${o.p50} ms, max ${o.max} ms`,
  );
  agent.destroy();
  notes.push(`store seeded in ${Math.round(seedMs / 1000)} s; ${REQUESTS} requests per route, one at a time`);
  const latency = summarize(lists);
  const context = summarize(all.slice(4 * REQUESTS, 5 * REQUESTS));
  notes.unshift(`list (all filters) p99 ${latency.p99} ms; context p99 ${context.p99} ms`);
  const total = all.length;
  return {
    scenario: 'conversation-reads',
    description: 'conversation list / context / status on 1M messages, uncached',
    offeredRate: null,
    messages: total,
    delivered: total - errors,
    durationMs: Math.round(durationMs),
    throughput: perSecond(total - errors, durationMs),
    drainMs: 0,
    latency,
    ack: context,
    errors,
    duplicates: 0,
    stored: null,
    cpu: cpuUse(cpuBefore, sampleCpu(ctx.env.databaseName, pids), total),
    serviceMetrics: metricsDelta(metricsBefore, await scrapeMetrics(p.services)),
    warnings: [],
    notes,
  };
}

/**
 * The assignment-worker's rows for the seeded store, which bench/conversation-store.ts leaves out:
 * for each seeded conversation with an agent, a chat (completed, so no sweep picks it up) and two
 * assignments to that agent, one per customer turn (the store's turns are 10 minutes apart, the
 * reply 5 minutes after the question): taken 1 to 4 minutes after the question, ended by the
 * reply. Set-based, with the triggers skipped as the store skips them (superuser, as the bench
 * runs). Returns how many assignments the dev tenant has.
 */
async function seedAssignments(pool: import('pg').Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('set session_replication_role = replica');
    await client.query(
      `insert into chats (id, tenant_id, state, last_operator_id, operator_replied_at, last_customer_message_at,
                          completed_at, closed, updated_at)
       select c.id, c.tenant_id, 'completed', c.agent_id, c.last_activity_at, c.last_activity_at - interval '5 minutes',
              c.last_activity_at, c.status = 'closed', c.last_activity_at
         from conversations c where c.metadata ? 'seeded' and c.agent_id is not null
       on conflict (id) do nothing`,
    );
    await client.query(
      `insert into chat_assignments (tenant_id, chat_id, operator_id, mode, assigned_at, ended_at, end_reason, waited_ms,
                                     provider)
       select c.tenant_id, c.id, c.agent_id, 'pull', q.at + w.wait, q.at + interval '5 minutes', 'replied',
              extract(epoch from w.wait)::bigint * 1000, c.provider
         from conversations c,
              lateral (select make_interval(mins => 1 + abs(hashtext(c.id::text)) % 4) as wait) w,
              lateral (values (c.opened_at), (c.opened_at + interval '20 minutes')) q(at)
        where c.metadata ? 'seeded' and c.agent_id is not null`,
    );
    await client.query('set session_replication_role = origin');
    await client.query('analyze chats, chat_assignments');
    const n = await client.query<{ n: string }>(
      `select count(*) as n from chat_assignments a join channels ch on ch.tenant_id = a.tenant_id
        where ch.provider = 'whatsapp' and ch.account_id = '106540352242922'`,
    );
    return Number(n.rows[0]?.n ?? 0);
  } finally {
    client.release();
  }
}

/** The inactivity sweep's selection, as the sweep runs it (24 h idle, 500 at most), 50 times. */
async function sweepCost(pool: import('pg').Pool) {
  const lat: number[] = [];
  let due = 0;
  for (let i = 0; i < 50; i++) {
    const start = performance.now();
    const r = await pool.query(
      `select id, tenant_id from conversations
        where status <> 'closed' and provider <> 'mailgun' and last_activity_at < now() - interval '24 hours'
        order by last_activity_at limit 500`,
    );
    lat.push(performance.now() - start);
    due = r.rowCount ?? 0;
  }
  const s = summarize(lat);
  return `inactivity sweep selection (${due} due): p50 ${s.p50} ms, max ${round(s.max)} ms per run`;
}

import http from 'node:http';
import { createDb, issueApiToken } from '@switchboard/db';
import type { BenchContext, ScenarioResult } from './context.ts';
import { cpuUse, sampleCpu } from './cpu.ts';
import { metricsDelta, scrapeMetrics } from './metrics.ts';
import { perSecond, summarize } from './stats.ts';

/**
 * Lookup latency with a warm cache (issue 3): the read API's lookups (conversation by id, by
 * WhatsApp user id and by Genesys conversation id, a page of message history, a customer
 * search by phone) against CONVERSATIONS seeded conversations of MESSAGES messages each. Every
 * lookup is asked once to warm the Redis cache, then REQUESTS are timed over keep-alive
 * connection, one at a time. Target: p99 < 5 ms (seed 001 asks p95 < 10 ms).
 */
const CONVERSATIONS = 2_000;
const MESSAGES = 20;
const REQUESTS = 10_000;
/** One at a time: the latency of a lookup, not of a queue in front of it (2 shared cores). */
const CONCURRENCY = 1;

async function seed(ctx: BenchContext, run: string) {
  const p = await ctx.pipeline('all');
  // A second pass in one run (--db-role both) seeds customers of its own, after the first's.
  const seeded = await p.pool.query<{ n: number }>(
    `select count(*)::int as n from customers where phone_e164 like '+447700%'`,
  );
  const offset = seeded.rows[0]?.n ?? 0;
  const { rows } = await p.pool.query<{ id: string; wa: string; gc: string; tenant_id: string }>(
    `with ch as (select id, tenant_id from channels where provider = 'whatsapp' and account_id = '106540352242922'),
          cu as (insert into customers (tenant_id, phone_e164, whatsapp_id, name)
                 select ch.tenant_id, '+447700' || lpad(g::text, 6, '0'), '447700' || lpad(g::text, 6, '0'),
                        'Bench Customer ' || g
                   from ch, generate_series($4::int + 1, $4::int + $1::int) g
                 returning id, tenant_id, whatsapp_id),
          co as (insert into conversations (tenant_id, channel_id, customer_id, provider, status, genesys_conversation_id)
                 select cu.tenant_id, ch.id, cu.id, 'whatsapp', 'open', 'gc-bench-' || $2::text || '-' || cu.whatsapp_id
                   from cu, ch
                 returning id, tenant_id, customer_id, genesys_conversation_id),
          m as (insert into messages (tenant_id, conversation_id, direction, provider, provider_message_id, type, body, received_at)
                select co.tenant_id, co.id, 'inbound', 'whatsapp', 'wamid.bench-' || $2::text || '-' || co.id || '-' || k, 'text',
                       'message ' || k, now() - make_interval(secs => $3::int - k)
                  from co, generate_series(1, $3::int) k)
     select co.id, cu.whatsapp_id as wa, co.genesys_conversation_id as gc, co.tenant_id
       from co join cu on cu.id = co.customer_id`,
    [CONVERSATIONS, run, MESSAGES, offset],
  );
  // Statistics for the bulk load, taken now rather than by autovacuum during a later scenario
  // (whose CPU it would take), and so the cache-filling reads get the plans a live table has.
  await p.pool.query('analyze customers, conversations, messages');
  return rows;
}

export async function runLookupBench(ctx: BenchContext): Promise<ScenarioResult> {
  const run = String(Date.now() % 100_000).padStart(5, '0');
  const p = await ctx.pipeline('all');
  ctx.log(`lookups: seeding ${CONVERSATIONS} conversations × ${MESSAGES} messages`);
  const conversations = await seed(ctx, run);
  const tenantId = conversations[0]?.tenant_id;
  if (!tenantId) throw new Error('lookups: nothing seeded (no dev WhatsApp channel?)');
  const { pool, db } = createDb(ctx.env.databaseUrl, { max: 1, applicationName: 'bench-lookups' });
  const { token } = await issueApiToken(db, tenantId, `bench ${run}`).finally(() => pool.end());

  const paths = conversations.flatMap((c) => [
    `/conversations/${c.id}`,
    `/conversations/by-whatsapp/${c.wa}`,
    `/conversations/by-genesys/${encodeURIComponent(c.gc)}`,
    `/conversations/${c.id}/messages?limit=20`,
    `/customers?phone=%2B${c.wa}`,
  ]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
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
  const pool4 = async (n: number, one: (i: number) => Promise<void>) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < n) await one(next++);
      }),
    );
  };

  ctx.log(`lookups: warming the cache with ${paths.length} lookups`);
  await pool4(paths.length, async (i) => {
    await get(paths[i] as string);
  });
  const pids = Object.fromEntries(p.services.map((s) => [s.name, s.pid]));
  const metricsBefore = await scrapeMetrics(p.services);
  const cpuBefore = sampleCpu(ctx.env.databaseName, pids);
  const latencies = new Float64Array(REQUESTS);
  let ok = 0;
  ctx.log(`lookups: ${REQUESTS} timed lookups, ${CONCURRENCY} at a time`);
  const t0 = performance.now();
  await pool4(REQUESTS, async (i) => {
    const start = performance.now();
    const status = await get(paths[(i * 7919) % paths.length] as string);
    latencies[i] = performance.now() - start;
    if (status === 200) ok++;
  });
  const durationMs = performance.now() - t0;
  agent.destroy();
  const serviceMetrics = metricsDelta(metricsBefore, await scrapeMetrics(p.services));
  const latency = summarize(latencies);
  return {
    scenario: 'lookups',
    description: 'read API lookups, warm Redis cache',
    offeredRate: null,
    messages: REQUESTS,
    delivered: ok,
    durationMs: Math.round(durationMs),
    throughput: perSecond(ok, durationMs),
    drainMs: 0,
    latency,
    ack: latency,
    errors: REQUESTS - ok,
    duplicates: 0,
    stored: null,
    cpu: cpuUse(cpuBefore, sampleCpu(ctx.env.databaseName, pids), REQUESTS),
    serviceMetrics,
    warnings: [],
    notes: [
      `${CONVERSATIONS} conversations × ${MESSAGES} messages; lookups by id, WhatsApp id, Genesys id, history page (20), phone search; ${CONCURRENCY} in flight over keep-alive; seeded phone numbers are UK drama numbers (+447700…)`,
      'latency = request → full answer at the client; every lookup asked once before timing',
    ],
  };
}

import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { switchboardTopology } from '@switchboard/platform';
import { DEV_HELPDESK_ACCOUNT, DEV_HELPDESK_SECRET, signedTimestamped } from '@switchboard/testing';
import { EventCollector } from './collector.ts';
import type { BenchContext, ScenarioResult } from './context.ts';
import { cpuUse, sampleCpu } from './cpu.ts';
import { metricsDelta, scrapeMetrics } from './metrics.ts';
import { perSecond, summarize } from './stats.ts';

/**
 * Sync latency (issue 4): a signed helpdesk webhook saying a ticket is in progress, on an open
 * conversation, until the `conversation.status.changed` (open → active, syncedFrom ticket) it
 * causes is on `switchboard.events`. Posted at a fixed rate (open loop) so queueing shows in the
 * percentiles; each request is timed from the moment it was due.
 */
const RATE = 100;
const COUNT = 1_000;

async function seedConversations(ctx: BenchContext, n: number, run: string): Promise<string[]> {
  const p = await ctx.pipeline('all');
  const { rows } = await p.pool.query<{ id: string }>(
    `with ch as (select id, tenant_id from channels where provider = 'whatsapp' and account_id = '106540352242922'),
          cu as (insert into customers (tenant_id, phone_e164)
                 select ch.tenant_id, '+1999' || $2::text || lpad(g::text, 6, '0') from ch, generate_series(1, $1::int) g
                 returning id, tenant_id)
     insert into conversations (tenant_id, channel_id, customer_id, provider, status)
     select cu.tenant_id, ch.id, cu.id, 'whatsapp', 'open' from cu, ch
     returning id`,
    [n, run],
  );
  return rows.map((r) => r.id);
}

export async function runStatusSyncBench(ctx: BenchContext): Promise<ScenarioResult> {
  const count = Math.min(ctx.options.messages, COUNT);
  const run = String(Date.now() % 100_000).padStart(5, '0');
  const p = await ctx.pipeline('all');
  const conversations = await seedConversations(ctx, count, run);
  const collector = await EventCollector.start(
    ctx.env.amqpUrl,
    switchboardTopology(ctx.env.namespace).names.events,
    'conversation.status.changed',
    (d) => d.conversationId,
  );
  try {
    const tracker = collector.track(conversations, count);
    const bodies = conversations.map((conversationId, i) =>
      signedTimestamped(
        {
          id: `bench-${run}-${i}`,
          type: 'ticket.created',
          occurredAt: new Date().toISOString(),
          accountId: DEV_HELPDESK_ACCOUNT,
          data: { ticketId: `BENCH-${run}-${i}`, conversationId, status: 'in_progress' },
        },
        DEV_HELPDESK_SECRET,
      ),
    );
    const pids = Object.fromEntries(p.services.map((s) => [s.name, s.pid]));
    const metricsBefore = await scrapeMetrics(p.services);
    const cpuBefore = sampleCpu(ctx.env.databaseName, pids);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const url = new URL('/webhooks/helpdesk', p.webhooksUrl);
    const due = new Float64Array(count);
    const answered = new Float64Array(count);
    const status = new Uint16Array(count);
    const post = (b: { body: string; headers: Record<string, string> }) =>
      new Promise<number>((resolve) => {
        const req = http.request(url, { method: 'POST', agent, headers: b.headers }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', () => resolve(0));
        req.end(b.body);
      });
    ctx.log(`status-sync: ${count} helpdesk webhooks at ${RATE}/s`);
    const t0 = performance.now();
    const inFlight: Array<Promise<void>> = [];
    for (let i = 0; i < count; i++) {
      due[i] = t0 + (i * 1000) / RATE;
      const wait = (due[i] ?? 0) - performance.now();
      if (wait > 1) await sleep(wait);
      inFlight.push(
        post(bodies[i] as { body: string; headers: Record<string, string> }).then((s) => {
          status[i] = s;
          answered[i] = performance.now();
        }),
      );
    }
    await Promise.all(inFlight);
    agent.destroy();
    await tracker.waitAll(15_000);
    const cpu = cpuUse(cpuBefore, sampleCpu(ctx.env.databaseName, pids), tracker.arrivals.size);
    const serviceMetrics = metricsDelta(metricsBefore, await scrapeMetrics(p.services));
    const latencies: number[] = [];
    conversations.forEach((c, i) => {
      const at = tracker.arrivals.get(c);
      if (at !== undefined) latencies.push(at - (due[i] ?? 0));
    });
    const durationMs = tracker.lastArrival - t0;
    const { rows } = await p.pool.query<{ active: string; events: string }>(
      `select count(*) filter (where status = 'active') as active,
              (select count(*) from outbox where routing_key = 'conversation.status.changed'
                 and envelope->>'subject' = any($1::text[])) as events
         from conversations where id = any($1::uuid[])`,
      [conversations],
    );
    const accepted = status.reduce((n, s) => n + (s >= 200 && s < 300 ? 1 : 0), 0);
    return {
      scenario: 'status-sync',
      description: `helpdesk webhook → conversation.status.changed at ${RATE}/s`,
      offeredRate: RATE,
      messages: count,
      delivered: tracker.arrivals.size,
      durationMs: Math.round(durationMs),
      throughput: perSecond(tracker.arrivals.size, durationMs),
      drainMs: Math.max(0, Math.round(tracker.lastArrival - (due[count - 1] ?? 0))),
      latency: summarize(latencies),
      ack: summarize(Array.from(answered, (a, i) => a - (due[i] ?? 0))),
      errors: count - accepted,
      duplicates: tracker.duplicates,
      stored: { rows: Number(rows[0]?.active ?? 0), events: Number(rows[0]?.events ?? 0) },
      cpu,
      serviceMetrics,
      warnings: [],
      notes: [
        `each webhook: ticket created in_progress on an open conversation → conversation active (syncedFrom ticket)`,
        'latency counted from each webhook’s due time to the conversation.status.changed event on the bus',
      ],
    };
  } finally {
    await collector.close();
  }
}

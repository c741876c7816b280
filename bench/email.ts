import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createDb } from '@switchboard/db';
import { signMailgun } from '@switchboard/platform';
import { DEV_MAILGUN_DOMAIN, DEV_MAILGUN_SIGNING_KEY } from '@switchboard/testing';
import { sql } from 'drizzle-orm';
import { findThreadAncestor } from '../services/sync-worker/src/store/email.ts';
import type { BenchContext, ScenarioResult } from './context.ts';
import { cpuUse, sampleCpu } from './cpu.ts';
import { metricsDelta, scrapeMetrics } from './metrics.ts';
import { perSecond, summarize } from './stats.ts';

/**
 * Inbound email throughput and threading latency with `PRIOR` email messages already stored:
 * `THREADS` customers with a thread of `PER_THREAD` messages each (seeded in SQL), then signed
 * Mailgun forwards, each a reply by one of those customers citing its thread's last messages,
 * posted with `concurrency` in flight. End to end = POST → `message.received`. Threading latency
 * is measured apart: the ancestor lookup the worker runs for each email, against the same rows.
 */
const THREADS = 10_000;
const PER_THREAD = 10;
const PRIOR = THREADS * PER_THREAD;

async function seedPriorThreads(databaseUrl: string, run: string): Promise<string[]> {
  const { pool, db } = createDb(databaseUrl, { max: 1, applicationName: 'bench-email-seed' });
  try {
    await db.execute(sql`
      with ch as (select id, tenant_id from channels where provider = 'mailgun' and account_id = ${DEV_MAILGUN_DOMAIN}),
      cu as (
        insert into customers (tenant_id, email)
        select ch.tenant_id, 'bench-' || ${run} || '-' || g || '@customer.test' from ch, generate_series(0, ${THREADS - 1}) g
        returning id, tenant_id, email
      ),
      co as (
        insert into conversations (tenant_id, channel_id, customer_id, provider, status)
        select cu.tenant_id, ch.id, cu.id, 'mailgun', 'open' from cu, ch
        returning id, tenant_id, customer_id
      ),
      lj as (insert into lead_journeys (conversation_id, tenant_id, customer_id) select id, tenant_id, customer_id from co)
      insert into messages (tenant_id, conversation_id, direction, provider, provider_message_id, type, body, provider_sent_at)
      select co.tenant_id, co.id, case when j % 2 = 0 then 'outbound' else 'inbound' end, 'mailgun',
             'prior-' || ${run} || '-' || split_part(split_part(cu.email, '@', 1), '-', 3) || '-' || j || '@customer.test',
             'email', 'prior message', now() - interval '1 day' + j * interval '1 minute'
        from co join cu on cu.id = co.customer_id, generate_series(0, ${PER_THREAD - 1}) j`);
    await db.execute(sql`
      insert into email_messages (message_id, tenant_id, conversation_id, customer_id, message_id_header, parent_id,
                                  in_reply_to, "references", subject, normalized_subject, direction, sent_at)
      select m.id, m.tenant_id, m.conversation_id, c.customer_id, m.provider_message_id,
             lag(m.id) over (partition by m.conversation_id order by m.provider_sent_at),
             '{}', '{}', 'Offer', 'offer', m.direction, m.provider_sent_at
        from messages m join conversations c on c.id = m.conversation_id
       where m.provider_message_id like ${`prior-${run}-%`}`);
    await db.execute(sql`analyze messages; analyze email_messages; analyze customers`);
    const { rows } = await pool.query<{ id: string }>(
      `select c.id from customers c where c.email like $1 order by split_part(split_part(c.email, '@', 1), '-', 3)::int`,
      [`bench-${run}-%`],
    );
    return rows.map((r) => r.id);
  } finally {
    await pool.end();
  }
}

function forward(run: string, i: number): { id: string; body: Buffer } {
  const t = i % THREADS;
  const last = `prior-${run}-${t}-${PER_THREAD - 1}@customer.test`;
  const prev = `prior-${run}-${t}-${PER_THREAD - 2}@customer.test`;
  const id = `bench-${run}-${i}@customer.test`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const token = randomBytes(25).toString('hex');
  const fields = {
    recipient: `sales@${DEV_MAILGUN_DOMAIN}`,
    sender: `bench-${run}-${t}@customer.test`,
    from: `bench-${run}-${t}@customer.test`,
    subject: 'Re: Offer',
    'Message-Id': `<${id}>`,
    'In-Reply-To': `<${last}>`,
    References: `<${prev}> <${last}>`,
    'body-plain': `Reply ${i}: what is the price?`,
    'stripped-text': `Reply ${i}: what is the price?`,
    timestamp,
    token,
    signature: signMailgun(timestamp, token, DEV_MAILGUN_SIGNING_KEY),
  };
  return { id, body: Buffer.from(new URLSearchParams(fields).toString()) };
}

export async function runEmailBench(ctx: BenchContext): Promise<ScenarioResult> {
  const { concurrency } = ctx.options;
  const count = Math.min(ctx.options.messages, 5_000);
  const run = ctx.env.runId.replace(/[^a-z0-9]/gi, '').slice(0, 12);
  const p = await ctx.pipeline('all');
  ctx.log(`email: seeding ${PRIOR} prior email messages in ${THREADS} threads`);
  const customers = await seedPriorThreads(ctx.env.databaseUrl, run);

  // Threading latency: the worker's ancestor lookup, against the seeded graph.
  const { pool, db } = createDb(ctx.env.databaseUrl, { max: 1, applicationName: 'bench-email-threading' });
  const tenant = (
    await pool.query<{ tenant_id: string }>('select tenant_id from channels where account_id = $1', [
      DEV_MAILGUN_DOMAIN,
    ])
  ).rows[0]?.tenant_id as string;
  const lookups: number[] = [];
  for (let i = 0; i < 2_000; i++) {
    const t = (i * 7919) % THREADS;
    const chain = [
      `prior-${run}-${t}-${PER_THREAD - 2}@customer.test`,
      `prior-${run}-${t}-${PER_THREAD - 1}@customer.test`,
    ];
    const start = performance.now();
    const hit = await findThreadAncestor(db, tenant, customers[t] as string, chain);
    lookups.push(performance.now() - start);
    if (!hit) throw new Error(`threading lookup found nothing for thread ${t}`);
  }
  await pool.end();
  const threading = summarize(lookups);
  ctx.log(`email: threading lookup p50 ${threading.p50} ms, p99 ${threading.p99} ms; posting ${count} forwards`);

  const forwards = Array.from({ length: count }, (_, i) => forward(run, i));
  const tracker = p.collector.track(
    forwards.map((f) => f.id),
    count,
  );
  const pids = Object.fromEntries(p.services.map((s) => [s.name, s.pid]));
  const metricsBefore = await scrapeMetrics(p.services);
  const cpuBefore = sampleCpu(ctx.env.databaseName, pids);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL('/webhooks/mailgun/inbound', p.ingestUrl);
  const start = new Float64Array(count);
  const answered = new Float64Array(count);
  const status = new Uint16Array(count);
  const post = (body: Buffer) =>
    new Promise<number>((resolve) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', () => resolve(0));
      req.end(body);
    });
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let i = next++; i < count; i = next++) {
        start[i] = performance.now();
        status[i] = await post((forwards[i] as { body: Buffer }).body);
        answered[i] = performance.now();
      }
    }),
  );
  agent.destroy();
  await tracker.waitAll(30_000);
  const cpu = cpuUse(cpuBefore, sampleCpu(ctx.env.databaseName, pids), tracker.arrivals.size);
  const serviceMetrics = metricsDelta(metricsBefore, await scrapeMetrics(p.services));
  const latencies: number[] = [];
  forwards.forEach((f, i) => {
    const at = tracker.arrivals.get(f.id);
    if (at !== undefined) latencies.push(at - (start[i] ?? 0));
  });
  const first = Math.min(...start);
  const last = Math.max(...start);
  const durationMs = tracker.lastArrival - first;
  const { rows } = await p.pool.query<{ rows: string; threaded: string; events: string }>(
    `select count(*) as rows,
            count(*) filter (where em.parent_id is not null and em.conversation_id = parent.conversation_id) as threaded,
            (select count(*) from outbox where routing_key = 'message.received' and envelope->'data'->>'providerMessageId' like $1) as events
       from messages m join email_messages em on em.message_id = m.id
       left join email_messages parent on parent.message_id = em.parent_id
      where m.provider_message_id like $1`,
    [`bench-${run}-%`],
  );
  const accepted = status.reduce((n, s) => n + (s >= 200 && s < 300 ? 1 : 0), 0);
  return {
    scenario: 'email',
    description: `inbound email → thread → event, ${PRIOR} prior messages`,
    offeredRate: null,
    messages: count,
    delivered: tracker.arrivals.size,
    durationMs: Math.round(durationMs),
    throughput: perSecond(tracker.arrivals.size, durationMs),
    drainMs: Math.max(0, Math.round(tracker.lastArrival - last)),
    latency: summarize(latencies),
    ack: summarize(Array.from(answered, (a, i) => a - (start[i] ?? 0))),
    errors: count - accepted,
    duplicates: tracker.duplicates,
    stored: { rows: Number(rows[0]?.rows ?? 0), events: Number(rows[0]?.events ?? 0) },
    cpu,
    serviceMetrics,
    warnings:
      Number(rows[0]?.threaded ?? 0) === count
        ? []
        : [`only ${rows[0]?.threaded}/${count} replies joined their thread`],
    notes: [
      `${concurrency} forwards in flight from ${THREADS} customers, each citing its thread's last two messages`,
      `threading lookup (References graph, ${PRIOR} prior messages, 2000 lookups): p50 ${threading.p50} ms, p95 ${threading.p95} ms, p99 ${threading.p99} ms`,
      `${rows[0]?.threaded}/${count} replies joined their thread`,
    ],
  };
}

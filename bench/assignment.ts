import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { createEvent, domainEventType, encodeEvent } from '@switchboard/contracts';
import { createDb, issueApiToken, seedTenant } from '@switchboard/db';
import { switchboardTopology } from '@switchboard/platform';
import amqp from 'amqplib';
import type { BenchContext, ScenarioResult } from './context.ts';
import { cpuUse, sampleCpu } from './cpu.ts';
import { metricsDelta, scrapeMetrics } from './metrics.ts';
import { perSecond, round, summarize } from './stats.ts';

/**
 * Issue 5: `POST /operators/:id/next-chat` latency with 200 operators online at once over 1,000
 * waiting chats: each operator asks, takes its chat, and asks again after a think time (0.5–1.5 s,
 * what a person at a desk does), until it gets 204; about 200 requests/s in all, from the start. A zero think time
 * would measure the HTTP queue of a 2-core machine, not the claim. A smaller untimed round on
 * another tenant warms the worker up first. Beside it, for comparison and not the target, the same
 * 200 operators with no think time at all (each calls again the moment it has its answer): that
 * measures the HTTP queue of 200 callers on a 2-core machine more than the claim, and says what a
 * login storm costs. Then the fairness of auto-assign: 1,000 customer
 * messages (`message.received` on the bus) for a tenant with auto-assign and 50 online operators,
 * and the max/min chats per operator.
 */
const OPERATORS = 200;
const CHATS = 1_000;
const AUTO_OPERATORS = 50;
const WARMUP_OPERATORS = 50;
const WARMUP_CHATS = 250;
const THINK_MIN_MS = 500;
const THINK_MAX_MS = 1_500;

/** A person's pause between two chats: uniform over 0.5–1.5 s. */
const thinkMs = () => THINK_MIN_MS + Math.random() * (THINK_MAX_MS - THINK_MIN_MS);

/**
 * When an operator first asks: what remains of a pause already under way (the residual-life
 * distribution of `thinkMs`, density proportional to the chance a pause lasts longer), so the
 * run starts as a desk in full swing, at its steady rate, instead of with all 200 arriving
 * together and overshooting it.
 */
function residualThinkMs(): number {
  for (;;) {
    const t = Math.random() * THINK_MAX_MS;
    const stillThinking = t < THINK_MIN_MS ? 1 : (THINK_MAX_MS - t) / (THINK_MAX_MS - THINK_MIN_MS);
    if (Math.random() < stillThinking) return t;
  }
}

export async function runAssignmentBench(ctx: BenchContext): Promise<ScenarioResult> {
  const p = await ctx.pipeline('all');
  const run = randomUUID().slice(0, 8);
  const { pool, db } = createDb(ctx.env.databaseUrl, { max: 2, applicationName: 'bench-assignment' });
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: OPERATORS });
    const call = (token: string, operator: string) =>
      new Promise<number>((resolve) => {
        const req = http.request(
          new URL(`/operators/${operator}/next-chat`, p.assignmentUrl),
          { method: 'POST', agent, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', () => resolve(0));
        req.end();
      });
    /** A tenant with `operators` online (capacity 5) and `chats` waiting, one second apart. */
    const pullTenant = async (slug: string, operators: number, chats: number) => {
      const t = await seedTenant(db, { slug, name: slug, channels: [] });
      const { token } = await issueApiToken(db, t.tenantId, 'bench', { scopes: ['read', 'operate'] });
      await pool.query(
        `insert into operators (tenant_id, id, status, capacity) select $1, 'op-' || i, 'online', 5 from generate_series(1, $2::int) i`,
        [t.tenantId, operators],
      );
      await pool.query(
        `insert into chats (id, tenant_id, state, waiting_since, last_customer_message_at)
       select gen_random_uuid(), $1, 'waiting_assignment', now() - (($2::int - i) * interval '1 second'), now()
         from generate_series(1, $2::int) i`,
        [t.tenantId, chats],
      );
      // Statistics for the bulk load, as autovacuum would take them within its next minute: on a
      // table it has never analyzed, the planner sorts every waiting chat instead of walking the
      // queue index.
      await pool.query('analyze chats, operators');
      return { tenantId: t.tenantId, token };
    };
    /**
     * Every operator asks (first after the rest of a pause), takes its chat, thinks, asks again
     * until 204; with `thinking` false all start at once and ask again right away.
     */
    const pullRound = async (token: string, operators: number, thinking = true) => {
      const latencies: number[] = [];
      let assigned = 0;
      let errors = 0;
      await Promise.all(
        Array.from({ length: operators }, async (_, k) => {
          if (thinking) await new Promise((res) => setTimeout(res, residualThinkMs()));
          for (;;) {
            const start = performance.now();
            const status = await call(token, `op-${k + 1}`);
            latencies.push(performance.now() - start);
            if (status === 200) {
              assigned += 1;
              if (thinking) await new Promise((res) => setTimeout(res, thinkMs()));
            } else {
              if (status !== 204) errors += 1;
              break;
            }
          }
        }),
      );
      return { latencies, assigned, errors };
    };
    // Warm-up on a tenant of its own (the pipeline's warm-up sends webhooks, which never reach
    // next-chat): the worker's pool connections and JIT-compiled claim path are in place before
    // the timed run, as they are on a worker that has been up for a while.
    const warm = await pullTenant(`bench-warm-${run}`, WARMUP_OPERATORS, WARMUP_CHATS);
    ctx.log(`assignment: warming up, ${WARMUP_OPERATORS} operators pulling ${WARMUP_CHATS} chats`);
    await pullRound(warm.token, WARMUP_OPERATORS);
    const pull = await pullTenant(`bench-pull-${run}`, OPERATORS, CHATS);
    const pids = Object.fromEntries(p.services.map((s) => [s.name, s.pid]));
    const metricsBefore = await scrapeMetrics(p.services);
    const cpuBefore = sampleCpu(ctx.env.databaseName, pids);
    ctx.log(`assignment: ${OPERATORS} operators pulling from ${CHATS} waiting chats`);
    const t0 = performance.now();
    const { latencies, assigned, errors } = await pullRound(pull.token, OPERATORS);
    const durationMs = performance.now() - t0;
    // CPU per claimed chat over the timed run only (the auto-assign phase below is not timed).
    const cpu = cpuUse(cpuBefore, sampleCpu(ctx.env.databaseName, pids), assigned);

    // The same desk with no think time: every operator back to back, all from the start.
    const rush = await pullTenant(`bench-rush-${run}`, OPERATORS, CHATS);
    ctx.log(`assignment: ${OPERATORS} operators with no think time over ${CHATS} waiting chats (for comparison)`);
    const rushT0 = performance.now();
    const rushRound = await pullRound(rush.token, OPERATORS, false);
    const rushMs = performance.now() - rushT0;
    const rushLatency = summarize(rushRound.latencies);
    agent.destroy();
    const twice = await pool.query<{ n: string }>(
      `select count(*) as n from (select chat_id from chat_assignments where tenant_id = any($1::uuid[]) group by chat_id having count(*) > 1) x`,
      [[pull.tenantId, rush.tenantId]],
    );

    // Fairness under auto-assign.
    const auto = await seedTenant(db, { slug: `bench-auto-${run}`, name: 'bench auto', channels: [] });
    await pool.query('insert into assignment_settings (tenant_id, auto_assign) values ($1, true)', [auto.tenantId]);
    await pool.query(
      `insert into operators (tenant_id, id, status, capacity) select $1, 'auto-' || i, 'online', 1000 from generate_series(1, $2::int) i`,
      [auto.tenantId, AUTO_OPERATORS],
    );
    ctx.log(`assignment: ${CHATS} customer messages to a tenant with auto-assign and ${AUTO_OPERATORS} operators`);
    const conn = await amqp.connect(ctx.env.amqpUrl);
    const ch = await conn.createConfirmChannel();
    const exchange = switchboardTopology(ctx.env.namespace).names.events;
    for (let i = 0; i < CHATS; i++) {
      const conversationId = randomUUID();
      const e = createEvent({
        source: '/switchboard/sync-worker',
        type: domainEventType('message.received'),
        subject: conversationId,
        tenantid: auto.tenantId,
        data: {
          messageId: randomUUID(),
          conversationId,
          customerId: randomUUID(),
          provider: 'whatsapp',
          providerMessageId: `bench-auto-${run}-${i}`,
          from: '+15550000000',
          type: 'text',
          text: 'hi',
          sentAt: new Date().toISOString(),
          receivedAt: new Date().toISOString(),
        },
      });
      ch.publish(exchange, 'message.received', encodeEvent(e), { persistent: true, messageId: e.id });
    }
    await ch.waitForConfirms();
    await conn.close();
    const deadline = Date.now() + 60_000;
    let spread: { max: number; min: number; total: number } = { max: 0, min: 0, total: 0 };
    while (Date.now() < deadline) {
      const r = await pool.query<{ max: number; min: number; total: number }>(
        `select max(n)::int as max, min(n)::int as min, sum(n)::int as total from (
           select o.id, count(c.id) as n from operators o
             left join chats c on c.tenant_id = o.tenant_id and c.assignee_id = o.id and c.state = 'assigned'
            where o.tenant_id = $1 group by o.id) x`,
        [auto.tenantId],
      );
      spread = r.rows[0] ?? spread;
      if (spread.total >= CHATS) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    const serviceMetrics = metricsDelta(metricsBefore, await scrapeMetrics(p.services));
    const fairness = spread.min > 0 ? round(spread.max / spread.min, 2) : Number.POSITIVE_INFINITY;
    return {
      scenario: 'assignment',
      description: `next-chat, ${OPERATORS} operators at once over ${CHATS} waiting chats`,
      offeredRate: null,
      messages: Math.min(CHATS, OPERATORS * 5),
      delivered: assigned,
      durationMs: Math.round(durationMs),
      throughput: perSecond(assigned, durationMs),
      drainMs: 0,
      latency: summarize(latencies),
      ack: summarize(latencies),
      errors: errors + rushRound.errors,
      duplicates: Number(twice.rows[0]?.n ?? 0),
      stored: null,
      cpu,
      serviceMetrics,
      warnings: spread.total >= CHATS ? [] : [`auto-assign placed only ${spread.total}/${CHATS} chats within 60 s`],
      notes: [
        `latency = one next-chat call (${latencies.length} calls, including each operator's final 204); each operator thinks 0.5–1.5 s between chats`,
        `no think time (not the target; the HTTP queue of ${OPERATORS} callers on this machine): p50 ${rushLatency.p50} ms, p95 ${rushLatency.p95} ms, p99 ${rushLatency.p99} ms, ${perSecond(rushRound.assigned, rushMs)} assignments/s${rushRound.errors > 0 ? `, ${rushRound.errors} errors` : ''}`,
        `auto-assign fairness: ${CHATS} chats over ${AUTO_OPERATORS} operators, max ${spread.max} / min ${spread.min} per operator = ${fairness}`,
      ],
    };
  } finally {
    await pool.end();
  }
}

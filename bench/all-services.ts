import { baseline } from './baseline.ts';
import type { BenchContext, Scenario, ScenarioResult } from './context.ts';
import { closedLoop, openLoop } from './load.ts';
import { type Driven, drive, type Pipeline } from './pipeline.ts';

/**
 * The pipeline as users run it: every service up (ingest, webhooks, sync-worker with its relay,
 * assignment-worker consuming every `message.received`), at the load they feel every day (300
 * msg/s), at 1,000 msg/s and flat out, with the bare loop at the same rate beside it. A run only
 * counts as kept up when the assignment-worker applied every message too, within half a second of
 * the last webhook: the far end of the pipeline, not only the collector, had no backlog.
 */
export const EVERYDAY_RATE = 300;
const KEPT_UP_MS = 500;
const ASSIGNMENT_CONSUMER = 'assignment-worker';

/**
 * Polls the assignment-worker's inbox until it claimed every `message.received` of this run: one
 * per accepted webhook (waiting for the events of refused ones only timed out, and reported the
 * 10 s stall as the assignment-worker's lag).
 */
function assignmentCaughtUp(p: Pipeline) {
  return async (prefix: string, lastSent: number, expected: number) => {
    const count = async () => {
      const { rows } = await p.pool.query<{ n: string }>(
        `select count(*) as n from outbox o
           join inbox i on i.consumer = $2 and i.event_id = o.event_id
          where o.routing_key = 'message.received' and o.envelope->'data'->>'providerMessageId' like $1`,
        [`${prefix}-%`, ASSIGNMENT_CONSUMER],
      );
      return Number(rows[0]?.n ?? 0);
    };
    let consumed = await count();
    let seen = consumed;
    let progressAt = performance.now();
    // Stop waiting once nothing moved for 10 s: a stuck consumer fails the run, it does not hang it.
    while (consumed < expected && performance.now() - progressAt < 10_000) {
      await new Promise((r) => setTimeout(r, 25));
      consumed = await count();
      if (consumed > seen) {
        seen = consumed;
        progressAt = performance.now();
      }
    }
    return { name: ASSIGNMENT_CONSUMER, consumed, lagMs: Math.max(0, Math.round(performance.now() - lastSent)) };
  };
}

async function atRate(ctx: BenchContext, label: string, rate: number): Promise<Driven> {
  const messages = Math.round(rate * ctx.options.durationS);
  const p = await ctx.pipeline('all');
  return drive(
    p,
    ctx.env,
    `wamid.bench-${ctx.env.runId}-${label}`,
    messages,
    (client, w) => openLoop(client, w, rate),
    {
      downstream: assignmentCaughtUp(p),
    },
  );
}

/** Everything arrived at the collector and the assignment-worker, with no backlog at the end. */
export function keptUp(r: ScenarioResult): boolean {
  const below = r.downstream;
  return (
    r.delivered === r.messages &&
    r.errors === 0 &&
    r.drainMs < KEPT_UP_MS &&
    (below === undefined || (below.consumed === r.messages && below.lagMs < KEPT_UP_MS))
  );
}

const notes = (p: Driven, rate: number | null, durationS: number): string[] => [
  rate === null
    ? 'closed loop, webhooks in flight as --concurrency'
    : `open loop at ${rate}/s for ${durationS} s; latency counted from each webhook's due time`,
  `assignment-worker applied ${p.downstream?.consumed ?? 0}/${p.messages}, caught up ${p.downstream?.lagMs ?? '-'} ms after the last webhook`,
  `${p.cpu.switchesPerMessage ?? '-'} context switches per message (services and servers)`,
];

export const allServicesScenarios: Scenario[] = [
  {
    name: 'everyday-baseline',
    description: `the bare loop at ${EVERYDAY_RATE}/s (open loop), beside everyday`,
    run: async (ctx) => {
      const messages = Math.round(EVERYDAY_RATE * ctx.options.durationS);
      const run = await baseline(ctx, 'everyday', { messages, rate: EVERYDAY_RATE });
      return {
        scenario: 'everyday-baseline',
        description: `bare loop at ${EVERYDAY_RATE}/s`,
        offeredRate: EVERYDAY_RATE,
        ...run,
        notes: [`${messages} messages over ${ctx.options.durationS} s`],
      };
    },
  },
  {
    name: 'everyday',
    description: `every service running at ${EVERYDAY_RATE} msg/s: CPU per message (servers included), webhook → message.received latency`,
    run: async (ctx) => {
      const run = await atRate(ctx, 'everyday', EVERYDAY_RATE);
      return {
        scenario: 'everyday',
        description: `every service at ${EVERYDAY_RATE}/s`,
        offeredRate: EVERYDAY_RATE,
        ...run,
        notes: notes(run, EVERYDAY_RATE, ctx.options.durationS),
      };
    },
  },
  {
    name: 'all-services-rate',
    description: 'every service running at 1,000 msg/s (--rate): keeps up, latency percentiles',
    run: async (ctx) => {
      const { rate } = ctx.options;
      const run = await atRate(ctx, 'all-rate', rate);
      return {
        scenario: 'all-services-rate',
        description: `every service at ${rate}/s`,
        offeredRate: rate,
        ...run,
        notes: notes(run, rate, ctx.options.durationS),
      };
    },
  },
  {
    name: 'all-services',
    description: 'every service running, flat out: throughput with the assignment-worker keeping up',
    run: async (ctx) => {
      const { messages, concurrency } = ctx.options;
      const p = await ctx.pipeline('all');
      const run = await drive(
        p,
        ctx.env,
        `wamid.bench-${ctx.env.runId}-all-max`,
        messages,
        (client, w) => closedLoop(client, w, concurrency),
        { downstream: assignmentCaughtUp(p) },
      );
      return {
        scenario: 'all-services',
        description: 'every service, max throughput',
        offeredRate: null,
        ...run,
        notes: notes(run, null, 0),
      };
    },
  },
];

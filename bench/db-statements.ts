import { randomUUID } from 'node:crypto';
import { PgClient } from '@switchboard/db';
import pg from 'pg';
import type { BenchContext, Scenario, ScenarioResult } from './context.ts';
import { cpuUse, sampleCpu } from './cpu.ts';
import { perSecond, summarize } from './stats.ts';

/**
 * The database driver on its own: one connection running a batch-shaped statement (a join of
 * conversations and customers over an array of phones, as drizzle sends the sync-worker's reads:
 * parameterized and unnamed) one after the other, through plain node-postgres and through the
 * pools' client (`PgClient`: statements prepared from their second use, a query's messages in
 * one socket write). CPU per statement for the bench process (the client) and Postgres.
 */
const STATEMENTS = 5_000;
const WARMUP = 500;
const TENANT = randomUUID();

const statement = (i: number): pg.QueryConfig => ({
  text: `select c.id, c.status, u.phone_e164
           from conversations c join customers u on u.id = c.customer_id
          where c.tenant_id = $1 and u.phone_e164 = any($2::text[])
          order by c.last_activity_at desc`,
  values: [TENANT, [`+4477009${String(i % 1000).padStart(5, '0')}`, '+447700900001']],
});

async function run(ctx: BenchContext, scenario: string, Client: typeof pg.Client): Promise<ScenarioResult> {
  const client = new Client({ connectionString: ctx.env.databaseUrl, application_name: `bench-${scenario}` });
  await client.connect();
  try {
    for (let i = 0; i < WARMUP; i++) await client.query(statement(i));
    const latencies: number[] = [];
    const cpuBefore = sampleCpu(ctx.env.databaseName);
    const start = performance.now();
    for (let i = 0; i < STATEMENTS; i++) {
      const t0 = performance.now();
      await client.query(statement(i));
      latencies.push(performance.now() - t0);
    }
    const durationMs = performance.now() - start;
    const cpu = cpuUse(cpuBefore, sampleCpu(ctx.env.databaseName), STATEMENTS);
    const summary = summarize(latencies);
    return {
      scenario,
      description: `${STATEMENTS} statements in a row on one connection`,
      offeredRate: null,
      messages: STATEMENTS,
      delivered: STATEMENTS,
      durationMs: Math.round(durationMs),
      throughput: perSecond(STATEMENTS, durationMs),
      drainMs: 0,
      latency: summary,
      ack: summary,
      errors: 0,
      duplicates: 0,
      stored: null,
      cpu,
      serviceMetrics: {},
      warnings: [],
      notes: ['CPU per statement: bench = the client process, postgres = its backend and the server'],
    };
  } finally {
    await client.end();
  }
}

export const dbStatementScenarios: Scenario[] = [
  {
    name: 'db-statements-plain',
    description: 'the driver alone: a batch-shaped read in a row through plain node-postgres',
    run: (ctx) => run(ctx, 'db-statements-plain', pg.Client),
  },
  {
    name: 'db-statements',
    description: "the driver alone: the same through the pools' client (statement cache, one write per query)",
    run: (ctx) => run(ctx, 'db-statements', PgClient),
  },
];

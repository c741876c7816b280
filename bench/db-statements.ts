import { PgClient } from '@switchboard/db';
import pg from 'pg';
import type { BenchContext, Scenario, ScenarioResult } from './context.ts';
import { cpuUse, sampleCpu } from './cpu.ts';
import { perSecond, summarize } from './stats.ts';

/**
 * The database driver on its own: one connection running a batch-shaped statement (the message
 * route's probe of a batch's senders among the tenant's customers, as drizzle sends the
 * sync-worker's statements: parameterized and unnamed) one after the other, through plain node-postgres and through the
 * pools' client (`PgClient`: statements prepared from their second use, a query's messages in
 * one socket write). CPU per statement for the bench process (the client) and Postgres.
 */
const STATEMENTS = 5_000;
const WARMUP = 500;

const statement = (tenant: string, i: number): pg.QueryConfig => ({
  // The message route's customer probe: one index lookup per sender of the batch.
  text: `select u.id, u.name, p.phone
           from unnest($2::text[]) as p(phone)
           cross join lateral (select id, name from customers
                                where tenant_id = $1 and phone_e164 = p.phone offset 0) u`,
  values: [tenant, [`+4477009${String(i % 1000).padStart(5, '0')}`, '+447700000001', '+447700000002']],
});

async function run(ctx: BenchContext, scenario: string, Client: typeof pg.Client): Promise<ScenarioResult> {
  const client = new Client({ connectionString: ctx.env.databaseUrl, application_name: `bench-${scenario}` });
  await client.connect();
  try {
    // The tenant of the dev WhatsApp channel: a tenant that exists, with whatever customers earlier
    // scenarios gave it (Postgres picks a statement's plans by its statistics).
    const { rows } = await client.query<{ tenant_id: string }>(
      "select tenant_id from channels where provider = 'whatsapp' order by created_at limit 1",
    );
    const tenant = rows[0]?.tenant_id;
    if (!tenant) throw new Error('db-statements: no WhatsApp channel seeded');
    for (let i = 0; i < WARMUP; i++) await client.query(statement(tenant, i));
    const latencies: number[] = [];
    const cpuBefore = sampleCpu(ctx.env.databaseName);
    const start = performance.now();
    for (let i = 0; i < STATEMENTS; i++) {
      const t0 = performance.now();
      await client.query(statement(tenant, i));
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

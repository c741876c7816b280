/**
 * next-chat's claim under Row-Level Security, by how it reaches Postgres (issue 12's last gap):
 * `npx tsx bench/claim-trips.ts [claims per pass] [callers]`. On a fresh database as the app role,
 * `callers` at once over a pool of that size (the assignment-worker's default, 20), each claim
 * timed from asking the pool to having the row:
 * - three: BEGIN with the tenant, the claim as a protocol-level prepared statement, COMMIT (main
 *   before this change: three round trips);
 * - literal: BEGIN, the tenant, the claim with its values written in and COMMIT as one message
 *   (one round trip, planned afresh each time);
 * - execute: `statementInTenant`: the same message with `EXECUTE` of the claim prepared once per
 *   connection (one round trip, the cached plan).
 * Passes alternate between the three, three rounds. Prints p50/p95/p99 per pass.
 */
import { randomUUID } from 'node:crypto';
import { createDb, devTenant, seedTenant, setTenantSql, statementInTenant, transaction } from '@switchboard/db';
import { createTestDatabase } from '@switchboard/testing';
import { PgDialect } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { assignedEvent } from '../services/assignment-worker/src/handlers/claim.ts';
import { type ClaimQuery, claimStatement } from '../services/assignment-worker/src/store/claim.ts';
import { summarize } from './stats.ts';

const CLAIMS = Number(process.argv[2] ?? 1000);
const CALLERS = Number(process.argv[3] ?? 20);
const ROUNDS = 3;
const OPERATORS = 200;
const names = { names: { inbound: 'b.inbound', events: 'b.events', dlx: 'b.dlx', parked: 'b.parked' } };
const dialect = new PgDialect();

const literal = (v: unknown) => (v === null || v === undefined ? 'null' : pg.escapeLiteral(String(v)));

type Variant = 'three' | 'literal' | 'execute';

const database = await createTestDatabase();
const owner = createDb(database.url, { max: 2 });
try {
  const { tenantId } = await seedTenant(owner.db, devTenant);
  await owner.pool.query(
    `insert into operators (tenant_id, id, status, capacity) select $1, 'op-' || i, 'online', 100000 from generate_series(1, $2::int) i`,
    [tenantId, OPERATORS],
  );
  await owner.pool.query(
    `insert into chats (id, tenant_id, state, waiting_since)
     select gen_random_uuid(), $1, 'waiting_assignment', now() - i * interval '1 ms' from generate_series(1, $2::int) i`,
    [tenantId, CLAIMS * ROUNDS * 3 + 1000],
  );
  await owner.pool.query('analyze');
  const app = createDb(database.appUrl, { max: CALLERS, applicationName: 'claim-trips' });

  const claim = async (variant: Variant, operatorId: string) => {
    const q: ClaimQuery = { tenantId, operatorId, mode: 'pull', at: new Date().toISOString(), exclude: [] };
    const ahead = assignedEvent(names, q, { chatId: randomUUID(), assignmentId: 1, waitedMs: 0 }, randomUUID());
    const { sql: text, params } = dialect.sqlToQuery(claimStatement(q, ahead));
    if (variant === 'execute')
      return (await statementInTenant(app.pool, tenantId, { name: 'trips_claim', text, values: params }))[0];
    if (variant === 'three')
      return transaction(
        app.pool,
        async (_tx, client) => (await client.query({ name: 'trips-claim', text, values: params })).rows[0],
        { tenantId },
      );
    const inlined = text.replace(/\$(\d+)/g, (_, n: string) => literal(params[Number(n) - 1]));
    const client = await app.pool.connect();
    try {
      const results = (await client.query(
        `begin; ${setTenantSql(tenantId)}; ${inlined}; commit`,
      )) as unknown as pg.QueryResult[];
      return results[2]?.rows[0];
    } finally {
      client.release();
    }
  };

  const pass = async (variant: Variant) => {
    const samples: number[] = [];
    let next = 0;
    let claimed = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, caller) => {
        while (next < CLAIMS) {
          next++;
          const t = performance.now();
          const row = await claim(variant, `op-${((caller * 7 + next) % OPERATORS) + 1}`);
          samples.push(performance.now() - t);
          if (row?.chat_id) claimed++;
        }
      }),
    );
    const s = summarize(samples);
    const secs = (performance.now() - started) / 1000;
    console.log(
      `${variant.padEnd(8)} claims ${claimed}/${CLAIMS}  ${Math.round(CLAIMS / secs)}/s  p50 ${s.p50}  p95 ${s.p95}  p99 ${s.p99}  max ${s.max} ms`,
    );
  };

  // Warm every connection and plan once per variant before timing.
  for (const v of ['three', 'literal', 'execute'] as const)
    await Promise.all(Array.from({ length: CALLERS * 2 }, (_, i) => claim(v, `op-${i + 1}`)));
  for (let r = 0; r < ROUNDS; r++) for (const v of ['three', 'literal', 'execute'] as const) await pass(v);
  await app.pool.end();
} finally {
  await owner.pool.end();
  await database.drop();
}

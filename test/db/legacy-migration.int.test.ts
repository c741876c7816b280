import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createDb, type Db, devTenant, seedTenant } from '@switchboard/db';
import { apply, hasProblems, loadJsonLines, rollback, tableSource, verify } from '@switchboard/db/legacy';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

let database: TestDatabase;
let db: Db;
beforeEach(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { max: 2 });
  await seedTenant(db.db, devTenant);
});
afterEach(async () => {
  await db.pool.end();
  await database.drop();
});

/** A digest of every table the migration may touch: equal digests mean equal contents. */
async function digest(): Promise<string> {
  const parts: string[] = [];
  for (const [table, order] of [
    ['conversations', 'id'],
    ['customers', 'id'],
    ['status_history', 'id'],
    ['legacy_imports', 'source, legacy_id'],
    ['tickets', 'id'],
  ]) {
    const r = await db.pool.query<{ d: string | null; n: string }>(
      `select md5(string_agg(t::text, '|' order by ${order})) as d, count(*) as n from ${table} t`,
    );
    parts.push(`${table}:${r.rows[0]?.n}:${r.rows[0]?.d}`);
  }
  return parts.join(' ');
}

const withClient = async <T>(fn: (c: import('pg').PoolClient) => Promise<T>) => {
  const c = await db.pool.connect();
  try {
    return await fn(c);
  } finally {
    c.release();
  }
};

describe('legacy migration (seeds 000 and 002)', () => {
  it('100,000 conversations: apply, verify, rollback and verify round-trip exactly; apply again is a no-op', async () => {
    await db.pool.query(`create table legacy_conversations (
        legacy_id text primary key, tenant text not null, provider text not null, account_id text not null,
        customer_phone text not null, customer_name text, status text not null,
        created_at timestamptz not null, updated_at timestamptz not null)`);
    await db.pool.query(`
      insert into legacy_conversations
      select 'L' || lpad(i::text, 7, '0'), 'dev', 'whatsapp', '106540352242922',
             '+1 631 ' || lpad(i::text, 7, '0'), 'Customer ' || i,
             (array['open', 'assigned', 'waiting', 'resolved', 'closed'])[1 + i % 5],
             timestamptz '2024-01-01' + i * interval '1 minute', timestamptz '2024-06-01' + i * interval '1 minute'
        from generate_series(1, 100000) i`);
    // A conversation from before status history existed (its status lives only in the field).
    await db.pool.query(`
      with cu as (insert into customers (tenant_id, phone_e164) select id, '+442071838750' from tenants where slug = 'dev' returning id, tenant_id)
      insert into conversations (tenant_id, channel_id, customer_id, provider, status)
      select cu.tenant_id, ch.id, cu.id, 'whatsapp', 'active' from cu join channels ch on ch.tenant_id = cu.tenant_id and ch.provider = 'whatsapp'`);
    await db.pool.query(`delete from status_history`);
    const before = await digest();
    const src = tableSource('legacy_conversations');

    const before_verify = await withClient((c) => verify(c, src));
    expect(before_verify.pending).toBe(100_000);
    expect(before_verify.problems.find((p) => p.check === 'entities without status history')?.count).toBe(1);

    const applied = await withClient((c) => apply(c, src, { batchSize: 10_000 }));
    expect(applied).toEqual({ imported: 100_000, problems: 0, backfilled: 1 });

    const report = await withClient((c) => verify(c, src));
    expect(report.source).toEqual(
      ['assigned', 'closed', 'open', 'resolved', 'waiting'].map((status) => ({ status, count: 20_000 })),
    );
    expect(report.imported).toEqual([
      { status: 'active', count: 40_000 },
      { status: 'closed', count: 40_000 },
      { status: 'open', count: 20_000 },
    ]);
    expect(report.pending).toBe(0);
    expect(hasProblems(report)).toBe(false);
    const history = await db.pool.query<{ n: string }>(
      `select count(*) as n from status_history where source = 'migration' and notes like 'legacy status: %'`,
    );
    expect(Number(history.rows[0]?.n)).toBe(100_000);

    const afterApply = await digest();
    const again = await withClient((c) => apply(c, src, { batchSize: 10_000 }));
    expect(again).toEqual({ imported: 0, problems: 0, backfilled: 0 });
    expect(await digest()).toBe(afterApply);

    // The CLI's --verify exits 0 on a clean import.
    const cli = await run('npx', ['tsx', 'tools/cli/src/switchboard.ts', 'migrate-legacy', '--verify'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: database.url },
    });
    expect(cli.stdout).toContain('ok   entities without status history: 0');

    await withClient((c) => rollback(c, src, { batchSize: 10_000 }));
    expect(await digest()).toBe(before);
    const afterRollback = await withClient((c) => verify(c, src));
    expect(afterRollback.imported).toEqual([]);
    expect(afterRollback.pending).toBe(100_000);
  }, 300_000);

  it('imports a JSON-lines file, refuses bad records with their reason, and --verify exits non-zero on them', async () => {
    const path = join(tmpdir(), `legacy-${process.pid}-${Date.now()}.jsonl`);
    const rec = (i: number, over: Record<string, unknown> = {}) =>
      JSON.stringify({
        legacy_id: `J${i}`,
        tenant: 'dev',
        provider: 'whatsapp',
        account_id: '106540352242922',
        customer_phone: `+44 20 7946 ${String(1000 + i)}`,
        customer_name: null,
        status: 'waiting',
        created_at: '2024-02-01T10:00:00Z',
        updated_at: '2024-02-02T10:00:00Z',
        ...over,
      });
    writeFileSync(
      path,
      [
        rec(1),
        rec(2, { status: 'escalated' }),
        rec(3, { account_id: 'nope' }),
        rec(4, { customer_phone: 'n/a' }),
        '',
      ].join('\n'),
    );
    const src = await withClient(async (c) => {
      const s = await loadJsonLines(c, path);
      expect(await apply(c, s, { batchSize: 2 })).toEqual({ imported: 1, problems: 3, backfilled: 0 });
      return s;
    });
    expect(src.name).toBe(`file:${path}`);
    const cli = await run(
      'npx',
      ['tsx', 'tools/cli/src/switchboard.ts', 'migrate-legacy', '--verify', '--file', path],
      {
        cwd: root,
        env: { ...process.env, DATABASE_URL: database.url },
      },
    ).catch((err: { code: number; stdout: string }) => err);
    expect('code' in cli ? cli.code : 0).toBe(1);
    expect(cli.stdout).toMatch(/FAIL records the import refused: 3/);
    expect(cli.stdout).toContain('unknown_status: escalated');
  });
});

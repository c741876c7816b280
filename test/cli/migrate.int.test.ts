import { createTestDatabase, databaseUrl, type TestDatabase, uniqueSuffix } from '@switchboard/testing';
import pg from 'pg';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { npmRun, oneLine, switchboard } from './run.ts';

// Each step starts a node process; on the shared 2-core machine under load one start has taken
// over 10 s, so these tests get a longer bound than the project's default.
vi.setConfig({ testTimeout: 300_000 });

let database: TestDatabase;
beforeEach(async () => {
  database = await createTestDatabase({ empty: true });
});
afterEach(() => database.drop());

async function tables(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      "select count(*)::int as n from information_schema.tables where table_schema = 'public'",
    );
    return rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}

it('npm run db:migrate -- --help prints help and migrates nothing', async () => {
  const r = await npmRun('db:migrate', ['--help'], { DATABASE_URL: database.url });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('Usage: switchboard migrate');
  expect(await tables(database.url)).toBe(0);
});

it('migrate applies every migration, and again is a no-op', async () => {
  const first = await switchboard(['migrate'], { DATABASE_URL: database.url });
  expect(first).toMatchObject({ code: 0, stdout: `migrated ${database.name}\n` });
  const n = await tables(database.url);
  expect(n).toBeGreaterThan(10);
  expect(await switchboard(['migrate'], { DATABASE_URL: database.url })).toMatchObject({ code: 0 });
  expect(await tables(database.url)).toBe(n);
});

it('an unreachable Postgres is one line naming it and where; the stack only with --verbose', async () => {
  const url = 'postgres://postgres:pw@127.0.0.1:1/nowhere';
  const [quiet, verbose, seed] = await Promise.all([
    switchboard(['migrate'], { DATABASE_URL: url }),
    switchboard(['migrate', '--verbose'], { DATABASE_URL: url }),
    switchboard(['tenants', 'list'], { DATABASE_URL: url }),
  ]);
  for (const r of [quiet, seed]) {
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('switchboard: cannot reach Postgres at 127.0.0.1:1/nowhere (ECONNREFUSED)\n');
    expect(oneLine(r)).toBe(true);
  }
  expect(verbose.code).toBe(1);
  expect(verbose.stderr).toMatch(/\n\s+at /);
  expect(verbose.stderr).not.toContain(':pw@');
});

it('a database that does not exist, and a bad DATABASE_URL, are one line too', async () => {
  const missing = await switchboard(['tenants', 'list'], {
    DATABASE_URL: databaseUrl(`sbt_missing_${uniqueSuffix()}`),
  });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^switchboard: cannot reach Postgres at .* \(3D000: database .* does not exist\)\n$/);
  const bad = await switchboard(['tenants', 'list'], { DATABASE_URL: 'mysql://x' });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(
    /^switchboard: invalid configuration: DATABASE_URL: must be a URL with one of postgres:, postgresql:\n$/,
  );
  expect(oneLine(bad)).toBe(true);
});

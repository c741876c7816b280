import { createDb, type Db, rlsMetrics, watchRlsBypass } from '@switchboard/db';
import { createRegistry } from '@switchboard/platform';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/**
 * The services' check of their own database role: the tables' owner (a superuser on this machine)
 * is reported as bypassing Row-Level Security, logged and exported as 1; switchboard_app as 0.
 */
let database: TestDatabase;
const opened: Db[] = [];
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(opened.map((d) => d.pool.end()));
  await database.drop();
});

async function check(url: string) {
  const d = createDb(url, { max: 1 });
  opened.push(d);
  const metrics = rlsMetrics(createRegistry('rls-guard-test'));
  const errors: Array<{ obj: object; msg: string }> = [];
  const stop = watchRlsBypass(d.db, { error: (obj, msg) => errors.push({ obj, msg }) }, metrics);
  const value = async () => (await metrics.bypassed.get()).values[0]?.value;
  await vi.waitFor(async () => expect(await value()).not.toBeNaN(), { timeout: 5_000 });
  await stop();
  return { value: await value(), errors };
}

describe('watchRlsBypass', () => {
  it('exports 1 and logs why for the owner', async () => {
    const { value, errors } = await check(database.url);
    expect(value).toBe(1);
    expect(errors).toEqual([
      {
        obj: { why: expect.stringMatching(/is a superuser|has BYPASSRLS|owns the tables/) },
        msg: 'database role bypasses row-level security; connect as switchboard_app',
      },
    ]);
  });

  it('exports 0 and logs nothing for switchboard_app', async () => {
    expect(await check(database.appUrl)).toEqual({ value: 0, errors: [] });
  });

  it('exports nothing while the database is unreachable, retrying until stopped', async () => {
    const unreachable = createDb('postgres://nobody@127.0.0.1:1/none', { max: 1 });
    opened.push(unreachable);
    const metrics = rlsMetrics(createRegistry('rls-guard-down'));
    const stop = watchRlsBypass(unreachable.db, { error: () => undefined }, metrics, { retryMs: 20 });
    await new Promise((r) => setTimeout(r, 200));
    expect((await metrics.bypassed.get()).values[0]?.value).toBeNaN();
    await stop();
  });
});

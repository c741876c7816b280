import { createDb, devTenant, listChannels, seedTenant } from '@switchboard/db';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { oneLine, switchboard } from './run.ts';

// Each step starts a node process; on the shared 2-core machine under load one start has taken
// over 10 s, so these tests get a longer bound than the project's default.
vi.setConfig({ testTimeout: 300_000 });

let database: TestDatabase;
let handle: ReturnType<typeof createDb>;
beforeEach(async () => {
  database = await createTestDatabase();
  handle = createDb(database.url, { max: 1 });
});
afterEach(async () => {
  await handle.pool.end();
  await database.drop();
});
const cli = (...args: string[]) => switchboard(args, { DATABASE_URL: database.url });

it('creates and lists tenants; a taken slug changes nothing', async () => {
  const created = await cli(
    'tenants',
    'create',
    '--slug',
    'acme',
    '--name',
    'Acme Ltd',
    '--time-zone',
    'Europe/Berlin',
  );
  expect(created.code).toBe(0);
  const id = /^tenant (\S+) {2}acme$/m.exec(created.stdout)?.[1];
  expect(id).toMatch(/^[0-9a-f-]{36}$/);

  const again = await cli('tenants', 'create', '--slug', 'acme', '--name', 'Other');
  expect(again).toMatchObject({ code: 1, stderr: 'switchboard: a tenant acme exists already\n' });

  const listed = await cli('tenants', 'list');
  expect(listed.stdout).toBe(`${id}  acme  active  0/0 channel(s) active  Europe/Berlin  Acme Ltd\n`);
});

it('disables every channel of a tenant, only with --yes off a terminal', async () => {
  const { tenantId } = await seedTenant(handle.db, devTenant);
  const statuses = async () => (await listChannels(handle.db, tenantId)).map((c) => c.status);

  const refused = await cli('tenants', 'disable', 'dev');
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/^switchboard: refusing to disable tenant dev and all its channels without --yes/);
  expect(new Set(await statuses())).toEqual(new Set(['active']));

  const disabled = await cli('tenants', 'disable', 'dev', '--yes');
  expect(disabled).toMatchObject({
    code: 0,
    stdout: `disabled dev: ${devTenant.channels.length} channel(s) disabled\n`,
  });
  expect(new Set(await statuses())).toEqual(new Set(['disabled']));
  expect((await cli('tenants', 'list')).stdout).toContain(`dev  disabled  0/${devTenant.channels.length} channel(s)`);
});

it('an unknown tenant is one line and exit 1, for every command that takes one', async () => {
  const results = await Promise.all([
    cli('tenants', 'disable', 'nobody', '--yes'),
    cli('channels', 'list', '--tenant', 'nobody'),
    cli('api-tokens', 'issue', '--tenant', 'nobody', '--name', 'x'),
  ]);
  for (const r of results) {
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^switchboard: no tenant nobody/);
    expect(oneLine(r)).toBe(true);
  }
});

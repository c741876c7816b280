import { createDb, devTenant, seedTenant, tenantForApiToken } from '@switchboard/db';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { npmRun, oneLine, switchboard } from './run.ts';

// Each step starts a node process; on the shared 2-core machine under load one start has taken
// over 10 s, so these tests get a longer bound than the project's default.
vi.setConfig({ testTimeout: 300_000 });

let database: TestDatabase;
let handle: ReturnType<typeof createDb>;
beforeEach(async () => {
  database = await createTestDatabase();
  handle = createDb(database.url, { max: 1 });
  await seedTenant(handle.db, devTenant);
});
afterEach(async () => {
  await handle.pool.end();
  await database.drop();
});
const cli = (...args: string[]) => switchboard(args, { DATABASE_URL: database.url });

it('issues, lists and revokes a token; revoking asks for --yes off a terminal', async () => {
  const issued = await cli('api-tokens', 'issue', '--tenant', 'dev', '--name', 'portal');
  const [, id, token] = /^token (\S+) \(read\): (\S+)$/m.exec(issued.stdout) ?? [];
  expect(await tenantForApiToken(handle.db, token as string)).toMatchObject({ slug: 'dev', scopes: ['read'] });
  expect((await cli('api-tokens', 'list', '--tenant', 'dev')).stdout).toContain(`${id}  portal  read  created`);

  expect((await cli('api-tokens', 'revoke', '--id', id as string)).code).toBe(2);
  expect(await tenantForApiToken(handle.db, token as string)).not.toBeNull();
  expect(await cli('api-tokens', 'revoke', '--id', id as string, '--yes')).toMatchObject({
    code: 0,
    stdout: 'revoked\n',
  });
  expect(await tenantForApiToken(handle.db, token as string)).toBeNull();
});

it('an id that is not a UUID never reaches the database; an unknown one is one line', async () => {
  const [notUuid, unknownToken, unknownChannel, help] = await Promise.all([
    cli('api-tokens', 'revoke', '--id', '42', '--yes'),
    cli('api-tokens', 'revoke', '--id', '6b1f0c3e-1111-4111-8111-111111111111', '--yes'),
    cli('channels', 'enable', '--id', '6b1f0c3e-1111-4111-8111-111111111111'),
    npmRun('api-tokens', ['--help'], { DATABASE_URL: database.url }),
  ]);
  expect(notUuid.code).toBe(2);
  expect(notUuid.stderr).toMatch(/argument '42' is invalid\. not a UUID/);
  expect(unknownToken).toMatchObject({ code: 1, stderr: 'switchboard: no such active token\n' });
  expect(unknownChannel.code).toBe(1);
  expect(unknownChannel.stderr).toMatch(/^switchboard: no such channel/);
  for (const r of [notUuid, unknownToken, unknownChannel]) expect(oneLine(r)).toBe(true);
  expect(help).toMatchObject({ code: 0 });
  expect(help.stdout).toContain('Usage: switchboard api-tokens');
});

it('issues a token with the scopes asked for, lists them, and refuses a scope that does not exist', async () => {
  const [admin, unknown] = await Promise.all([
    cli('api-tokens', 'issue', '--tenant', 'dev', '--name', 'ops', '--scopes', 'admin,read'),
    cli('api-tokens', 'issue', '--tenant', 'dev', '--name', 'bad', '--scopes', 'read,root'),
  ]);
  const [, id, token] = /^token (\S+) \(read,admin\): (\S+)$/m.exec(admin.stdout) ?? [];
  expect(await tenantForApiToken(handle.db, token as string)).toMatchObject({ scopes: ['read', 'admin'] });
  expect((await cli('api-tokens', 'list', '--tenant', 'dev')).stdout).toContain(`${id}  ops  read,admin  created`);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/unknown scope root: give one or more of read, operate, admin/);
  expect(oneLine(unknown)).toBe(true);
});

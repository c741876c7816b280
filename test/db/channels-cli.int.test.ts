import { channelSecretsFor, createDb, devTenant, seedTenant } from '@switchboard/db';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { npmRun, switchboard } from '../cli/run.ts';

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

// Resolves with stdout; rejects with { code, stdout, stderr } on a non-zero exit.
const channels = (...args: string[]) =>
  switchboard(['channels', ...args], { DATABASE_URL: database.url }).then((r) =>
    r.code === 0 ? r.stdout : Promise.reject(r),
  );

it('adds, lists, rotates the secret of, disables and enables a channel from the command line', async () => {
  const added = await channels(
    'add',
    '--tenant',
    'dev',
    '--provider',
    'whatsapp',
    '--account',
    '555000',
    '--generate-secret',
  );
  const [, id, first] = /^channel (\S+) {2}secret: (\S+)$/m.exec(added) ?? [];
  expect(id).toBeDefined();
  expect((await channelSecretsFor(handle.db, 'whatsapp', '555000'))?.secrets).toEqual([first]);

  const listed = await channels('list', '--tenant', 'dev');
  expect(listed).toContain(`${id}  whatsapp  555000  active  1 secret(s)`);
  expect(listed).not.toContain(first as string);
  expect(listed).toContain('106540352242922  active  env default secret');

  const rotated = await channels('rotate-secret', '--id', id as string, '--grace-hours', '1');
  const second = /^new secret: (\S+)$/m.exec(rotated)?.[1];
  expect((await channelSecretsFor(handle.db, 'whatsapp', '555000'))?.secrets).toEqual([second, first]);

  await channels('rotate-secret', '--id', id as string, '--grace-hours', '0');
  const afterNoGrace = (await channelSecretsFor(handle.db, 'whatsapp', '555000'))?.secrets ?? [];
  expect(afterNoGrace).toHaveLength(2); // the new one, and the first (still in its hour of grace)
  expect(afterNoGrace).not.toContain(second);

  expect(await channels('disable', '--id', id as string, '--yes')).toContain('disabled');
  expect((await channelSecretsFor(handle.db, 'whatsapp', '555000'))?.status).toBe('disabled');
  expect(await channels('enable', '--id', id as string)).toContain('enabled');
  expect((await channelSecretsFor(handle.db, 'whatsapp', '555000'))?.status).toBe('active');

  await expect(channels('add', '--tenant', 'dev', '--provider', 'fax', '--account', 'x')).rejects.toMatchObject({
    code: 2,
  });
  await expect(
    channels('add', '--tenant', 'dev', '--provider', 'whatsapp', '--account', 'y', '--secret', 'short'),
  ).rejects.toMatchObject({ code: 2 });
}, 300_000); // seven process starts: slow on the shared machine under load

it('the old script names print help instead of a stack trace', async () => {
  const [channelsHelp, legacyHelp] = await Promise.all([
    npmRun('channels', ['--help'], { DATABASE_URL: database.url }),
    npmRun('migrate:legacy', ['--help'], { DATABASE_URL: database.url }),
  ]);
  expect(channelsHelp).toMatchObject({ code: 0, stderr: '' });
  expect(channelsHelp.stdout).toContain('Usage: switchboard channels');
  expect(legacyHelp).toMatchObject({ code: 0, stderr: '' });
  expect(legacyHelp.stdout).toContain('--rollback');
}, 300_000);

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase, testNamespace, testRedisPrefix, testUrls } from '@switchboard/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { root, runCommand } from '../cli/run.ts';
import { freePort, productionInstall } from './production-install.ts';

// `npm run build`, then a production install (`npm ci --omit=dev`) of what it built, then every
// CLI and every service started from plain JavaScript with `node`, as an image would run them.
// On a quiet machine the whole file takes well under a minute (most of it `npm ci` from the npm
// cache); the bounds below are for the shared 2-core machine under load.

const services = readdirSync(join(root, 'services')).filter((s) =>
  existsSync(join(root, 'services', s, 'src/main.ts')),
);
let dir: string;
let database: TestDatabase;
const ns = testNamespace();
const redis = testRedisPrefix();
const children: ChildProcess[] = [];
let env: Record<string, string>;

beforeAll(async () => {
  [dir, database] = await Promise.all([productionInstall(), createTestDatabase({ empty: true })]);
  env = {
    DATABASE_URL: database.appUrl,
    MIGRATION_DATABASE_URL: database.url,
    AMQP_URL: testUrls.amqp,
    REDIS_URL: testUrls.redis,
    AMQP_NAMESPACE: ns.ns,
    REDIS_KEY_PREFIX: redis.prefix,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'development',
  };
  // The migrations are found relative to the install (shared/db/migrations), not the source tree.
  expect(await cli('migrate')).toMatchObject({ code: 0, stdout: `migrated ${database.name}\n` });
}, 600_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await database?.drop();
  await ns.cleanup();
  await redis.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCommand(process.execPath, ['tools/cli/dist/switchboard.js', ...args], env, dir);

it('installs without dev dependencies', () => {
  for (const dev of ['tsx', 'typescript', 'vitest', 'esbuild', '@biomejs/biome']) {
    expect(existsSync(join(dir, 'node_modules', dev)), dev).toBe(false);
  }
  expect(existsSync(join(dir, 'node_modules/.bin/switchboard'))).toBe(true);
});

it('runs the command line from its built JavaScript: --help, migrate, seed, tenants, channels, dlq', async () => {
  const groups = ['migrate', 'tenants', 'channels', 'api-tokens', 'dlq', 'migrate-legacy', 'seed', 'demo'];
  const [help, ...helps] = await Promise.all([cli('--help'), ...groups.map((g) => cli(g, '--help'))]);
  expect(help?.code).toBe(0);
  for (const [i, group] of groups.entries()) {
    expect(help?.stdout).toContain(group);
    expect(helps[i]).toMatchObject({ code: 0 });
    expect(helps[i]?.stdout).toContain(`Usage: switchboard ${group}`);
  }
  expect((await cli('seed')).stdout).toMatch(/^seeded tenant dev/);
  expect((await cli('tenants', 'create', '--slug', 'acme', '--name', 'Acme')).code).toBe(0);
  expect((await cli('tenants', 'list')).stdout).toMatch(/ dev {2}active {2}5\/5 channel\(s\)[\s\S]* acme {2}active/);
  expect((await cli('channels', 'list', '--tenant', 'dev')).stdout).toContain('106540352242922  active');
  const bin = await runCommand(
    join(dir, 'node_modules/.bin/switchboard'),
    ['dlq', 'show', 'x', '--limit', 'abc'],
    env,
    dir,
  );
  expect(bin.code).toBe(2);
}, 300_000);

it('starts every service from dist/main.js to /readyz and stops it cleanly on SIGTERM', async () => {
  const ports = new Map<string, number>();
  for (const name of services) ports.set(name, await freePort());
  const base = (name: string) => `http://127.0.0.1:${ports.get(name)}`;
  for (const name of services) {
    const portVar = `${name.toUpperCase().replaceAll('-', '_')}_PORT`;
    const child = spawn(process.execPath, [`services/${name}/dist/main.js`], {
      cwd: dir,
      env: { ...process.env, ...env, [portVar]: String(ports.get(name)), CHANNEL_SECRETS_REGISTRY: 'on' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
  }
  const ready = (name: string) =>
    fetch(`${base(name)}/readyz`)
      .then((r) => r.status)
      .catch(() => 0);
  for (const name of services) await expect.poll(() => ready(name), { timeout: 180_000, interval: 250 }).toBe(200);

  const exits = children.map((c) => once(c, 'exit'));
  for (const c of children) c.kill('SIGTERM');
  for (const [code] of await Promise.all(exits)) expect(code).toBe(0);
}, 300_000);

import { execSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { afterEach, describe, expect, it } from 'vitest';
import { countRows, postMessages } from './support.ts';

let p: Pipeline;
afterEach(async () => {
  await p?.stop();
});

// The same commands that start these services on the CI machine (and that infra/up uses).
const restartPostgres = () =>
  execSync('pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main restart -m fast', { stdio: 'ignore' });
const restartRedis = () => {
  execSync('redis-cli shutdown nosave || true', { stdio: 'ignore' });
  execSync(
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
    { stdio: 'ignore' },
  );
};

async function survives(restart: () => void) {
  p = await startPipeline({ env: { LOCK_WAIT_MS: '2000' } });
  const posting = postMessages(p, 600, 8, 'dep');
  await expect
    .poll(() => countRows(p, 'select count(*) as n from messages'), { timeout: 30_000, interval: 20 })
    .toBeGreaterThan(50);
  restart();
  const results = await posting;
  // The edge needs neither Postgres nor Redis: every webhook is accepted through the outage.
  expect(results.filter((r) => r.status !== 200)).toEqual([]);

  await expect
    .poll(() => countRows(p, 'select count(*) as n from messages').catch(() => -1), { timeout: 90_000, interval: 250 })
    .toBe(600);
  await expect
    .poll(() => countRows(p, 'select count(*) as n from outbox where published_at is null'), { timeout: 30_000 })
    .toBe(0);
  expect(await countRows(p, 'select count(distinct provider_message_id) as n from messages')).toBe(600);
  expect(await countRows(p, `select count(*) as n from outbox where routing_key = 'message.received'`)).toBe(600);
  await sleep(200);
  expect(new Set(p.events.ofKey('message.received').map((r) => r.event.id)).size).toBe(600);
}

describe('a dependency restarting under load', () => {
  it('Postgres: handlers retry, nothing is lost or applied twice', async () => {
    await survives(restartPostgres);
  });

  it('Redis: locks degrade to the Postgres guard, nothing is lost or applied twice', async () => {
    await survives(restartRedis);
  });
});

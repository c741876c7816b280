import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Pipeline } from '@switchboard/test-pipeline';
import { signedWhatsApp, whatsappText } from '@switchboard/testing';

const root = fileURLToPath(new URL('../..', import.meta.url));

const spawned = new Set<ChildProcess>();

/** Runs a service's `main.ts` in its own process, as `npm start` would, with the test's env. */
export function spawnService(service: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', `services/${service}/src/main.ts`], {
    cwd: root,
    env: { ...process.env, ...env },
    // A test env with a LOG_LEVEL (TEST_LOG_LEVEL=warn, say) shows the services' pino lines.
    stdio: ['ignore', env.LOG_LEVEL && env.LOG_LEVEL !== 'silent' ? 'inherit' : 'ignore', 'inherit'],
  });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  return child;
}

/** Kills whatever a failed test left running, so no orphan outlives the run. */
export async function killSpawned(): Promise<void> {
  await Promise.all([...spawned].map((c) => stopService(c, 'SIGKILL')));
}

export async function stopService(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/** Posts `n` one-message webhooks, `concurrency` at a time; returns each wamid with its status. */
export async function postMessages(p: Pipeline, n: number, concurrency: number, idPrefix: string) {
  const results: Array<{ id: string; status: number }> = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const id = `wamid.${idPrefix}-${i}`;
      const from = `1631555${String(1000 + (i % 200)).padStart(4, '0')}`;
      const res = await p
        .post('/webhooks/whatsapp', signedWhatsApp(whatsappText({ from, id, text: `m${i}` })))
        .then((r) => r.status)
        .catch(() => 0);
      results.push({ id, status: res });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

export const countRows = async (p: Pipeline, sql: string) =>
  Number((await p.pool.query<{ n: string }>(sql)).rows[0]?.n ?? Number.NaN);

/** Stops the shared Redis server (faults project only: it runs alone). */
export const stopRedis = () => execSync('redis-cli shutdown nosave || true', { stdio: 'ignore' });

/** Starts the shared Redis server again unless it answers. */
export function startRedis() {
  execSync(
    'redis-cli ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
    { stdio: 'ignore' },
  );
}

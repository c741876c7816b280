import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A service running as its own process, as the container image runs it (or as `npm start` does, with `tsx`). */
export interface ServiceProcess {
  name: string;
  pid: number | undefined;
  url: string;
  /** The last lines it wrote (its full output is in `bench/results/<name>.log`). */
  tail: () => string;
  /** Warnings and errors it logged so far, and the latest few of their messages. */
  problems: () => { count: number; latest: string[] };
  /** SIGTERM, then wait for its graceful shutdown (SIGKILL after `graceMs`). */
  stop: (graceMs?: number) => Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface StartOptions {
  root: string;
  logDir: string;
  env: Record<string, string>;
  port: number;
  /** When set, the process writes a V8 CPU profile here on exit. */
  profileDir?: string;
  /**
   * Run the TypeScript sources through tsx instead of the production build
   * (`services/<name>/dist/main.js`, plain JavaScript, as the image runs it).
   */
  tsx?: boolean;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

export async function startService(name: string, opts: StartOptions): Promise<ServiceProcess> {
  // One directory per service: every thread (tsx runs its loader in a worker) writes its own profile.
  const profile = opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', join(opts.profileDir, name)] : [];
  const entry = opts.tsx ? ['--import', 'tsx', `services/${name}/src/main.ts`] : [`services/${name}/dist/main.js`];
  const child = spawn(process.execPath, [...profile, ...entry], {
    cwd: opts.root,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(opts.logDir, `${name}.log`));
  const lines: string[] = [];
  const problems = { count: 0, latest: [] as string[] };
  const keep = (chunk: Buffer) => {
    log.write(chunk);
    const fresh = chunk.toString('utf8').split('\n').filter(Boolean);
    lines.push(...fresh);
    if (lines.length > 40) lines.splice(0, lines.length - 40);
    for (const line of fresh) {
      // pino JSON at warn or above; anything else on these streams (a stack trace) counts too.
      const level = line.match(/"level":"(\w+)"/)?.[1];
      if (level === 'info' || level === 'debug' || level === 'trace') continue;
      problems.count++;
      problems.latest = [...problems.latest, line.match(/"msg":"([^"]*)"/)?.[1] ?? line.slice(0, 120)].slice(-5);
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exit = once(child, 'exit');
  const url = `http://127.0.0.1:${opts.port}`;
  const service: ServiceProcess = {
    name,
    pid: child.pid,
    url,
    tail: () => lines.join('\n'),
    problems: () => ({ count: problems.count, latest: [...problems.latest] }),
    stop: async (graceMs = 20_000) => {
      if (!exited(child)) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exit;
        clearTimeout(timer);
      }
      log.end();
    },
  };
  try {
    await waitReady(child, `${url}/readyz`, 60_000);
  } catch (err) {
    await service.stop(2_000);
    throw new Error(`${name} did not become ready: ${(err as Error).message}\n${service.tail()}`);
  }
  return service;
}

async function waitReady(child: ChildProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (exited(child)) throw new Error(`exited with ${child.exitCode ?? child.signalCode}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`not ready after ${timeoutMs} ms (last: ${last})`);
}

import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnService } from './support.ts';

/**
 * The services a fleet can run, with the variable that sets each one's HTTP port.
 * services/realtime (8084) joins here when it lands: `realtime: 'REALTIME_PORT'`; the replica test
 * then starts two of it like the others (its effects are what its WebSocket clients receive).
 */
export const PORT_VARIABLES = {
  'sync-worker': 'SYNC_WORKER_PORT',
  'assignment-worker': 'ASSIGNMENT_WORKER_PORT',
  ingest: 'INGEST_PORT',
  webhooks: 'WEBHOOKS_PORT',
} as const;
export type ServiceName = keyof typeof PORT_VARIABLES;

export interface Replica {
  service: ServiceName;
  url: string;
  child: ChildProcess;
}

/**
 * A port free right now on 127.0.0.1: the kernel picks it (port 0), we release it and hand it to
 * the process. A spawned service cannot report the port it got from 0, and the race with another
 * process taking it in between is a failed boot, not a wrong result.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

/**
 * Starts `service` as its own process on a free port; `ready` resolves once its /readyz answers
 * 200. The URL is known at once, so replicas that point at each other can boot side by side.
 */
export async function spawnReplica(
  service: ServiceName,
  env: Record<string, string>,
  timeoutMs = 90_000,
): Promise<Replica & { ready: Promise<void> }> {
  const port = await freePort();
  const host = PORT_VARIABLES[service].replace(/_PORT$/, '_HOST');
  const child = spawnService(service, { ...env, [PORT_VARIABLES[service]]: String(port), [host]: '127.0.0.1' });
  const url = `http://127.0.0.1:${port}`;
  return { service, url, child, ready: waitReady(url, child, timeoutMs) };
}

/** Starts `service` as its own process on a free port and resolves once it is ready. */
export async function startReplica(service: ServiceName, env: Record<string, string>): Promise<Replica> {
  const { ready, ...replica } = await spawnReplica(service, env);
  await ready;
  return replica;
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let backoff = 50;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: exited with ${child.exitCode} before it was ready`);
    const status = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) })
      .then((r) => r.status)
      .catch(() => 0);
    if (status === 200) return;
    // Polling a booting process: back off so eight booting replicas do not steal each other's CPU.
    await sleep(backoff);
    backoff = Math.min(backoff * 2, 500);
  }
  throw new Error(`${url}: not ready within ${timeoutMs} ms`);
}

/**
 * The replica that leads the outbox relay (`outbox_relay_leader 1` on its /metrics; one per
 * database, whichever worker service it belongs to), waiting for one to take it.
 */
export async function relayLeader(replicas: Replica[], timeoutMs = 20_000): Promise<Replica> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const r of replicas) {
      const text = await fetch(`${r.url}/metrics`)
        .then((res) => res.text())
        .catch(() => '');
      if (/^outbox_relay_leader(\{[^}]*\})? 1$/m.test(text)) return r;
    }
    await sleep(100);
  }
  throw new Error(`no ${replicas[0]?.service} replica leads the relay`);
}

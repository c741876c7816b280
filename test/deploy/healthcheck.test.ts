import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { root } from './repo.ts';

const script = join(root, 'infra/docker/healthcheck.mjs');

/** The image's HEALTHCHECK command, with the service ports it reads; its exit code. */
function healthcheck(ports: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const env = { PATH: process.env.PATH ?? '', ...ports };
    execFile(process.execPath, [script], { env }, (err) => resolve(err ? ((err.code as number) ?? 1) : 0));
  });
}

/** Ports nothing listens on: each one bound by a throwaway server, then closed. */
async function closedPort(): Promise<string> {
  const s = Fastify();
  await s.listen({ port: 0, host: '127.0.0.1' });
  const { port } = s.server.address() as AddressInfo;
  await s.close();
  return String(port);
}

describe('infra/docker/healthcheck.mjs', () => {
  it("passes when the container's service answers /healthz on its port, fails when it does not", async () => {
    const app = Fastify();
    let status = 200;
    app.get('/healthz', async (_req, reply) => reply.code(status).send({ status: 'ok' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = String((app.server.address() as AddressInfo).port);
    const others = {
      INGEST_PORT: await closedPort(),
      WEBHOOKS_PORT: await closedPort(),
      ASSIGNMENT_WORKER_PORT: await closedPort(),
      REALTIME_PORT: await closedPort(),
    };
    try {
      expect(await healthcheck({ ...others, SYNC_WORKER_PORT: port })).toBe(0);
      status = 503;
      expect(await healthcheck({ ...others, SYNC_WORKER_PORT: port })).toBe(1);
    } finally {
      await app.close();
    }
    expect(await healthcheck({ ...others, SYNC_WORKER_PORT: port })).toBe(1);
  }, 60_000); // three node processes: seconds each on a loaded machine
});

import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type CloudEvent, createEvent } from '@switchboard/contracts';
import { createHttpApp, createLogger, switchboardTopology } from '@switchboard/platform';
import { testNamespace, testRedisPrefix, testUrls } from '@switchboard/testing';
import amqp from 'amqplib';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from './config.ts';
import { type Realtime, startRealtime } from './service.ts';

/**
 * What the gateway's integration tests share: gateway replicas on free ports against the real
 * Redis and RabbitMQ (own namespace and key prefix), a hand-written read API stub for the token
 * port (token → tenant), a publisher on `switchboard.events`, and WebSocket clients that record
 * every frame they get.
 */

export const TENANT_A = { token: 'token-a', tenantId: randomUUID(), slug: 'tenant-a' };
export const TENANT_B = { token: 'token-b', tenantId: randomUUID(), slug: 'tenant-b' };

/**
 * The read API's `GET /tenant` for the token port. `revoked` tokens get 401 from then on, as a
 * deleted token does; `down` answers 503 to everything, as an unavailable read API.
 */
export async function startReadApiStub() {
  const app = createHttpApp(createLogger('read-api-stub', 'silent'));
  const state = { revoked: new Set<string>(), down: false };
  app.get('/tenant', async (req, reply) => {
    if (state.down) return reply.code(503).send({ error: 'unavailable' });
    const t = [TENANT_A, TENANT_B].find((x) => req.headers.authorization === `Bearer ${x.token}`);
    if (!t || state.revoked.has(t.token)) return reply.code(401).send({ error: 'unauthorized' });
    return { id: t.tenantId, slug: t.slug };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, state, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

export async function startGatewayKit(env: Record<string, string> = {}) {
  const namespace = testNamespace();
  const redisPrefix = testRedisPrefix();
  const readApi = await startReadApiStub();
  const baseEnv = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    REDIS_URL: testUrls.redis,
    AMQP_URL: testUrls.amqp,
    AMQP_NAMESPACE: namespace.ns,
    REDIS_KEY_PREFIX: redisPrefix.prefix,
    REALTIME_PORT: '0',
    REALTIME_HOST: '127.0.0.1',
    REALTIME_READ_API_URL: readApi.url,
    SHUTDOWN_TIMEOUT_MS: '10000',
    ...env,
  };
  const replicas: Realtime[] = [];
  const conn = await amqp.connect(testUrls.amqp);
  const ch = await conn.createConfirmChannel();
  const exchange = switchboardTopology(namespace.ns).names.events;
  return {
    env: baseEnv,
    /** What the read API stub answers: revoke a token, or take it down. */
    readApi: readApi.state,
    async replica(extra: Record<string, string> = {}) {
      const r = await startRealtime(loadConfig({ ...baseEnv, ...extra }));
      await r.broker.ready();
      replicas.push(r);
      return r;
    },
    /** Publishes a domain event on the bus, as the outbox relay would; resolves once confirmed. */
    async publish(tenantId: string, routingKey: string, data: Record<string, unknown>) {
      const ev = createEvent({ source: 'test', type: `switchboard.${routingKey}.v1`, tenantid: tenantId, data });
      await this.republish(routingKey, ev);
      return ev;
    },
    /** Publishes an event as it is (a redelivery keeps its id). */
    async republish(routingKey: string, ev: CloudEvent) {
      ch.publish(exchange, routingKey, Buffer.from(JSON.stringify(ev)), { messageId: ev.id, persistent: true });
      await ch.waitForConfirms();
    },
    async stop() {
      for (const r of replicas) await r.lifecycle.stop();
      await ch.close();
      await conn.close();
      await readApi.app.close();
      await Promise.allSettled([namespace.cleanup(), redisPrefix.cleanup()]);
    },
  };
}

export interface Frame {
  type: string;
  event?: string;
  id?: string;
  seq?: string;
  topics?: string[];
  data?: Record<string, unknown>;
  [k: string]: unknown;
}

/** A WebSocket client that keeps every frame; `events()` are the `event` frames in arrival order. */
export async function connectClient(base: string, token: string) {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`);
  const frames: Frame[] = [];
  let closed: { code: number; reason: string } | undefined;
  ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Frame));
  ws.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  await expect.poll(() => frames.some((f) => f.type === 'welcome'), { timeout: 5_000 }).toBe(true);
  return {
    ws,
    frames,
    events: () => frames.filter((f) => f.type === 'event'),
    closed: () => closed,
    send: (msg: unknown) => ws.send(JSON.stringify(msg)),
    /** Subscribes and waits for the answer (`subscribed` or `reload`). */
    async subscribe(topics: string[], extra: Record<string, unknown> = {}) {
      const before = frames.length;
      ws.send(JSON.stringify({ type: 'subscribe', topics, ...extra }));
      await expect
        .poll(() => frames.slice(before).find((f) => f.type === 'subscribed' || f.type === 'reload'), {
          timeout: 10_000,
        })
        .toBeDefined();
      return frames.slice(before).find((f) => f.type === 'subscribed' || f.type === 'reload') as Frame;
    },
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      const done = new Promise((r) => ws.once('close', r));
      ws.close();
      await done;
    },
  };
}
export type Client = Awaited<ReturnType<typeof connectClient>>;

export const urlOf = (r: Realtime) => `http://127.0.0.1:${(r.app.server.address() as AddressInfo).port}`;

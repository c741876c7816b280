import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEdgeApp } from './edge.ts';
import { createLogger } from './logger.ts';
import { createRegistry, httpMetrics } from './metrics.ts';

/**
 * The edge's socket timeouts on a real listening server: a sender that trickles its body (or its
 * headers) is cut at the configured time, not a minute later.
 */
const timeouts = { headersMs: 1_000, requestMs: 1_500, keepAliveMs: 1_000, checkIntervalMs: 100 };
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
});

async function listen() {
  const registry = createRegistry('test');
  const app = createEdgeApp({
    logger: createLogger('test', 'silent'),
    registry,
    http: httpMetrics(registry),
    checks: {},
    bodyLimit: 1024 * 1024,
    timeouts,
  });
  app.post('/echo', async (req) => ({ bytes: (req.body as Buffer).length }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  close = () => app.close();
  return (app.server.address() as { port: number }).port;
}

/** Writes `head`, then one byte every 200 ms; resolves with how long the server kept the socket. */
async function trickle(port: number, head: string): Promise<number> {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const started = performance.now();
  socket.write(head);
  const drip = setInterval(() => socket.writable && socket.write('1'), 200);
  socket.on('error', () => undefined);
  socket.resume();
  await new Promise((resolve) => socket.once('close', resolve));
  clearInterval(drip);
  return performance.now() - started;
}

describe('edge socket timeouts', () => {
  it('cuts a slow body at the request timeout', async () => {
    const port = await listen();
    const head = 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n';
    const held = await trickle(port, head);
    expect(held).toBeGreaterThanOrEqual(timeouts.requestMs - 100);
    expect(held).toBeLessThan(timeouts.requestMs + 1_000);
  });

  it('cuts slow headers at the headers timeout', async () => {
    const port = await listen();
    const held = await trickle(port, 'POST /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(held).toBeGreaterThanOrEqual(timeouts.headersMs - 100);
    expect(held).toBeLessThan(timeouts.headersMs + 1_000);
  });

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const port = await listen();
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
    const answered = new Promise<number>((resolve) => socket.once('data', () => resolve(performance.now())));
    socket.resume();
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
    const idle = (await closed) - (await answered);
    expect(idle).toBeGreaterThanOrEqual(timeouts.keepAliveMs - 100);
    // Node keeps an idle socket up to a second past keepAliveTimeout (its own buffer against races).
    expect(idle).toBeLessThan(timeouts.keepAliveMs + 1_500);
  });
});

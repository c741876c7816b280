import { createEvent } from '@switchboard/contracts';
import {
  Broker,
  createLogger,
  createRegistry,
  Publisher,
  publisherMetrics,
  REASON_HEADER,
  switchboardTopology,
} from '@switchboard/platform';
import { queueDepth, testNamespace, testUrls } from '@switchboard/testing';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { npmRun, oneLine, switchboard } from '../cli/run.ts';

// Each step starts a node process; on the shared 2-core machine under load one start has taken
// over 10 s, so these tests get a longer bound than the project's default.
vi.setConfig({ testTimeout: 300_000 });

let ns: ReturnType<typeof testNamespace>;
let broker: Broker;
let publisher: Publisher;

beforeEach(async () => {
  ns = testNamespace();
  const metrics = publisherMetrics(createRegistry('test'));
  broker = new Broker(testUrls.amqp, switchboardTopology(ns.ns), createLogger('test', 'silent'), metrics);
  publisher = new Publisher(broker, metrics, createLogger('test', 'silent'));
  await publisher.start();
  broker.start();
  await broker.ready();
});
afterEach(async () => {
  await publisher.close();
  await broker.close();
  await ns.cleanup();
});

const dlq = (...args: string[]) =>
  switchboard(['dlq', ...args], env()).then((r) => (r.code === 0 ? r.stdout : Promise.reject(r)));
const env = () => ({ AMQP_URL: testUrls.amqp, AMQP_NAMESPACE: ns.ns });

it('lists, shows and replays dead letters from the command line', async () => {
  const { names, consumers } = switchboardTopology(ns.ns);
  const event = createEvent({ source: '/test', type: 'switchboard.inbound.whatsapp.message.received.v1', data: {} });
  await publisher.publish({
    exchange: names.dlx,
    routingKey: consumers.syncInbound.name,
    content: Buffer.from(JSON.stringify(event)),
    properties: {
      messageId: event.id,
      type: event.type,
      persistent: true,
      headers: { [REASON_HEADER]: 'invalid_payload: x' },
    },
    mandatory: true,
  });

  expect(await dlq('list')).toMatch(
    new RegExp(`${consumers.syncInbound.deadQueue.replaceAll('.', '\\.')}\\s+1\\s+→ replays to`),
  );
  const [shown] = (await dlq('show', consumers.syncInbound.deadQueue)).trim().split('\n');
  expect(JSON.parse(shown ?? '{}')).toMatchObject({ messageId: event.id, reason: 'invalid_payload: x' });

  // Replaying everything is destructive: off a terminal it needs --yes, and nothing moves without.
  const refused = await switchboard(['dlq', 'replay', consumers.syncInbound.deadQueue], env());
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/refusing to replay every message from .* without --yes/);
  expect(await queueDepth(consumers.syncInbound.deadQueue)).toBe(1);

  expect(await dlq('replay', consumers.syncInbound.deadQueue, '--yes')).toMatch(/replayed 1 message/);
  expect(await queueDepth(consumers.syncInbound.deadQueue)).toBe(0);
  expect(await queueDepth(consumers.syncInbound.name)).toBe(1);
});

it('bad arguments, unknown queues and an unreachable broker are one line and a non-zero exit', async () => {
  const { consumers } = switchboardTopology(ns.ns);
  const [badLimit, unknown, down, help] = await Promise.all([
    npmRun('dlq', ['show', consumers.syncInbound.deadQueue, '--limit', 'abc'], env()),
    switchboard(['dlq', 'show', 'no.such.queue'], env()),
    switchboard(['dlq', 'list'], { ...env(), AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' }),
    npmRun('dlq', ['replay', '--help'], env()),
  ]);
  expect(badLimit.code).toBe(2);
  expect(badLimit.stderr).toMatch(/option '--limit <n>' argument 'abc' is invalid/);
  expect(unknown).toMatchObject({ code: 1 });
  expect(unknown.stderr).toMatch(/^switchboard: unknown queue no\.such\.queue/);
  expect(down).toMatchObject({ code: 1, stderr: 'switchboard: cannot reach RabbitMQ at 127.0.0.1:1 (ECONNREFUSED)\n' });
  for (const r of [badLimit, unknown, down]) expect(oneLine(r)).toBe(true);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('Usage: switchboard dlq replay');
});

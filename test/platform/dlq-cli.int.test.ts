import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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
import { afterEach, beforeEach, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
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
  run(process.execPath, ['--import', 'tsx', 'tools/cli/src/switchboard.ts', 'dlq', ...args], {
    cwd: root,
    env: { ...process.env, AMQP_URL: testUrls.amqp, AMQP_NAMESPACE: ns.ns },
  }).then((r) => r.stdout);

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

  expect(await dlq('replay', consumers.syncInbound.deadQueue, '--yes')).toMatch(/replayed 1 message/);
  expect(await queueDepth(consumers.syncInbound.deadQueue)).toBe(0);
  expect(await queueDepth(consumers.syncInbound.name)).toBe(1);
});

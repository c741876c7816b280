import { randomUUID } from 'node:crypto';
import {
  Broker,
  createLogger,
  createRegistry,
  Publisher,
  PublishFailedError,
  publisherMetrics,
  switchboardTopology,
  type Topology,
} from '@switchboard/platform';
import { testNamespace, testUrls } from '@switchboard/testing';
import amqp from 'amqplib';
import { afterEach, beforeEach, expect, it } from 'vitest';

const logger = createLogger('test', 'silent');
let ns: ReturnType<typeof testNamespace>;
let topology: Topology;
let broker: Broker;
let publisher: Publisher;
let registry: ReturnType<typeof createRegistry>;
let side: amqp.ChannelModel;
let full: string;

beforeEach(async () => {
  ns = testNamespace();
  topology = switchboardTopology(ns.ns);
  full = `${ns.ns}full`;
  side = await amqp.connect(testUrls.amqp);
  const ch = await side.createChannel();
  // A quorum queue that refuses what it has no room for (reject-publish): the broker nacks.
  await ch.assertQueue(full, {
    durable: true,
    arguments: { 'x-queue-type': 'quorum', 'x-max-length': 1, 'x-overflow': 'reject-publish' },
  });
  await ch.close();
  registry = createRegistry('test');
  broker = new Broker(testUrls.amqp, topology, logger, publisherMetrics(createRegistry('test')));
  publisher = new Publisher(broker, publisherMetrics(registry), logger, { replaceIntervalMs: 0 });
  await publisher.start();
  broker.start();
  await broker.ready();
});

afterEach(async () => {
  await publisher.close();
  await broker.close();
  const ch = await side.createChannel();
  await ch.deleteQueue(full);
  await side.close();
  await ns.cleanup(topology);
});

const publish = () =>
  publisher
    .publish({
      exchange: '',
      routingKey: full,
      content: Buffer.from('{}'),
      properties: { messageId: randomUUID(), persistent: true },
      mandatory: true,
    })
    .then(
      () => 'confirmed',
      (err: unknown) => (err instanceof PublishFailedError ? err.reason : String(err)),
    );

const replaced = async () =>
  (await registry.getSingleMetric('amqp_publisher_channels_replaced_total')?.get())?.values.find(
    (v) => v.labels.reason === 'nacked',
  )?.value ?? 0;

it('a nacked publish fails and the channel is replaced; a fresh channel publishes once the queue has room', async () => {
  // The queue takes messages until it holds more than its limit, then refuses the next ones.
  const outcomes: string[] = [];
  while (!outcomes.includes('nacked') && outcomes.length < 10) outcomes.push(await publish());
  expect(outcomes.slice(0, 2)).toEqual(['confirmed', 'confirmed']);
  expect(outcomes.at(-1)).toBe('nacked');
  await expect.poll(replaced).toBeGreaterThanOrEqual(1);
  const ch = await side.createChannel();
  await ch.purgeQueue(full);
  await ch.close();
  // A channel registered while the queue was full keeps refusing; its nack replaces it in turn.
  await expect.poll(publish, { timeout: 5_000, interval: 20 }).toBe('confirmed');
});

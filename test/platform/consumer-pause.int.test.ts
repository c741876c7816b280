import { randomUUID } from 'node:crypto';
import { createEvent } from '@switchboard/contracts';
import {
  Broker,
  Consumer,
  consumerMetrics,
  createLogger,
  createRegistry,
  done,
  isUnreachable,
  Publisher,
  publisherMetrics,
  switchboardTopology,
  type Topology,
} from '@switchboard/platform';
import { queueDepth, testNamespace, testUrls } from '@switchboard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * Outages pause, they do not poison: while the handler's dependency is unreachable the consumer
 * holds its deliveries, stops consuming and spends no attempt; when the probe answers it resumes.
 * The dependency is a hand-written stub port (a flag), the broker is the real one.
 */
const logger = createLogger('test', 'silent');
let ns: ReturnType<typeof testNamespace>;
let topology: Topology;
let broker: Broker;
let publisher: Publisher;
let consumer: Consumer | undefined;

beforeEach(async () => {
  ns = testNamespace();
  topology = switchboardTopology(ns.ns, { retryDelaysMs: [50, 100], maxAttempts: 3 });
  broker = new Broker(testUrls.amqp, topology, logger, publisherMetrics(createRegistry('test')));
  publisher = new Publisher(broker, publisherMetrics(createRegistry('test')), logger);
  await publisher.start();
  broker.start();
  await broker.ready();
});

afterEach(async () => {
  await consumer?.stop();
  consumer = undefined;
  await publisher.close();
  await broker.close();
  await ns.cleanup(topology);
});

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('consumer pause on an unreachable dependency', () => {
  it('holds 40 messages through an outage longer than the retry ladder, then applies each once at attempt 1', async () => {
    const world = { up: false, probes: 0 };
    const applied = new Map<string, number>();
    const metrics = consumerMetrics(createRegistry('test'));
    const q = topology.consumers.syncInbound;
    consumer = new Consumer(
      broker,
      publisher,
      q,
      async (msg, ctx) => {
        if (!world.up) throw refused();
        const id = String(msg.properties.messageId);
        applied.set(id, ctx.attempt);
        return done;
      },
      {
        prefetch: 10,
        logger,
        metrics,
        batch: { maxSize: 1, concurrency: 4 },
        pause: {
          isOutage: isUnreachable,
          probe: async () => {
            world.probes++;
            if (!world.up) throw refused();
          },
          maxProbeIntervalMs: 200,
        },
      },
    );
    await consumer.start();
    const ids = Array.from({ length: 40 }, () => randomUUID());
    for (const id of ids) {
      await publisher.publishEvent(
        topology.names.inbound,
        'whatsapp.message.received',
        createEvent({ id, source: '/test', type: 'test.v1', data: {} }),
        { mandatory: true },
      );
    }
    await expect.poll(async () => (await metrics.paused.get()).values[0]?.value, { timeout: 10_000 }).toBe(1);
    // Down for longer than the whole ladder (50 + 100 ms, 3 attempts) takes: nothing retried or dead.
    await expect.poll(() => world.probes, { timeout: 10_000 }).toBeGreaterThan(8);
    expect((await metrics.retried.get()).values).toEqual([]);
    expect(await queueDepth(q.deadQueue)).toBe(0);
    expect(applied.size).toBe(0);

    world.up = true;
    await expect.poll(() => applied.size, { timeout: 15_000 }).toBe(40);
    expect(new Set(applied.values())).toEqual(new Set([1]));
    expect((await metrics.paused.get()).values[0]?.value).toBe(0);
    expect((await metrics.pauses.get()).values[0]?.value).toBeGreaterThanOrEqual(1);
    expect((await metrics.retried.get()).values).toEqual([]);
    expect(await queueDepth(q.deadQueue)).toBe(0);
    await expect.poll(() => queueDepth(q.name), { timeout: 10_000 }).toBe(0);
  });

  it('sends a message whose own handling keeps looking like an outage down the retry ladder after 10 holds', async () => {
    const metrics = consumerMetrics(createRegistry('test'));
    let handled = 0;
    consumer = new Consumer(
      broker,
      publisher,
      topology.consumers.syncInbound,
      async () => {
        handled++;
        throw refused();
      },
      // The dependency answers its probe: it is this message that fails.
      { prefetch: 10, logger, metrics, pause: { isOutage: isUnreachable, probe: async () => undefined } },
    );
    await consumer.start();
    await publisher.publishEvent(
      topology.names.inbound,
      'whatsapp.message.received',
      createEvent({ id: randomUUID(), source: '/test', type: 'test.v1', data: {} }),
      { mandatory: true },
    );
    await expect.poll(() => queueDepth(topology.consumers.syncInbound.deadQueue), { timeout: 30_000 }).toBe(1);
    // 10 holds, then one attempt per rung of the ladder (3 attempts), each held 10 times again.
    expect(handled).toBeGreaterThanOrEqual(13);
    expect((await metrics.pauses.get()).values[0]?.value).toBeGreaterThanOrEqual(10);
  });

  it('still retries a failure of the message itself', async () => {
    const metrics = consumerMetrics(createRegistry('test'));
    consumer = new Consumer(
      broker,
      publisher,
      topology.consumers.syncInbound,
      async () => {
        throw Object.assign(new Error('duplicate key value'), { code: '23505' });
      },
      { prefetch: 10, logger, metrics, pause: { isOutage: isUnreachable, probe: async () => undefined } },
    );
    await consumer.start();
    await publisher.publishEvent(
      topology.names.inbound,
      'whatsapp.message.received',
      createEvent({ id: randomUUID(), source: '/test', type: 'test.v1', data: {} }),
      { mandatory: true },
    );
    await expect.poll(() => queueDepth(topology.consumers.syncInbound.deadQueue), { timeout: 10_000 }).toBe(1);
    expect((await metrics.pauses.get()).values).toEqual([]);
  });
});

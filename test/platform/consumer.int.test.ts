import { randomUUID } from 'node:crypto';
import { createEvent } from '@switchboard/contracts';
import {
  type BatchHandler,
  Broker,
  BrokerUnavailableError,
  type ConsumedQueue,
  Consumer,
  Counter,
  consumerMetrics,
  createLogger,
  createRegistry,
  dead,
  done,
  type Handler,
  listDeadLetters,
  type Outcome,
  Publisher,
  PublishFailedError,
  park,
  publisherMetrics,
  replayDeadLetters,
  switchboardTopology,
  type Topology,
} from '@switchboard/platform';
import { queueDepth, testNamespace, testUrls } from '@switchboard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const logger = createLogger('test', 'silent');
let ns: ReturnType<typeof testNamespace>;
let topology: Topology;
let broker: Broker;
let publisher: Publisher;
let consumer: Consumer | undefined;

beforeEach(async () => {
  ns = testNamespace();
  topology = switchboardTopology(ns.ns, { retryDelaysMs: [50, 100], maxAttempts: 3 });
  const registry = createRegistry('test');
  broker = new Broker(testUrls.amqp, topology, logger, publisherMetrics(registry));
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

const publish = (id = randomUUID()) =>
  publisher.publishEvent(
    topology.names.inbound,
    'whatsapp.message.received',
    createEvent({ id, source: '/test', type: 'test.v1', data: { n: 1 } }),
    { mandatory: true },
  );

const parkedCounter = () =>
  new Counter({ name: 'parked_total', help: 'parked', labelNames: ['provider', 'reason'] as const, registers: [] });
const counted = async (c: Counter<string>) => (await c.get()).values.map((v) => ({ ...v.labels, n: v.value }));

async function consume(
  handler: Handler | { batch: BatchHandler },
  opts: {
    queue?: Topology['consumers']['syncInbound'];
    parked?: Counter<string>;
    batch?: number;
    lingerMs?: number;
    lingerAlways?: boolean;
  } = {},
) {
  const metrics = consumerMetrics(createRegistry('test'));
  consumer = new Consumer(broker, publisher, opts.queue ?? topology.consumers.syncInbound, handler, {
    prefetch: 10,
    logger,
    metrics,
    ...(opts.parked ? { parked: opts.parked } : {}),
    ...(opts.batch
      ? {
          batch: {
            maxSize: opts.batch,
            concurrency: 1,
            lingerMs: opts.lingerMs ?? 0,
            ...(opts.lingerAlways ? { lingerAlways: true } : {}),
          },
        }
      : {}),
  });
  await consumer.start();
  return metrics;
}

describe('Consumer', () => {
  it('acks what the handler did, leaving nothing behind', async () => {
    const seen: number[] = [];
    await consume(async (_msg, ctx) => {
      seen.push(ctx.attempt);
      return done;
    });
    await publish();
    await expect.poll(() => seen).toEqual([1]);
    await consumer?.stop();
    expect(await queueDepth(topology.consumers.syncInbound.name)).toBe(0);
  });

  it('retries a throwing handler through the delay queues, then parks it with its reason', async () => {
    const attempts: number[] = [];
    await consume(async (_msg, ctx) => {
      attempts.push(ctx.attempt);
      throw new Error('database is away');
    });
    const id = randomUUID();
    await publish(id);
    await expect.poll(() => queueDepth(topology.consumers.syncInbound.deadQueue), { timeout: 5_000 }).toBe(1);
    expect(attempts).toEqual([1, 2, 3]);
    const conn = broker.connection;
    if (!conn) throw new Error('not connected');
    const [parked] = await listDeadLetters(conn, topology.consumers.syncInbound.deadQueue);
    expect(parked).toMatchObject({ messageId: id, attempts: 3 });
    expect(parked?.reason).toMatch(/^attempts exhausted \(3\): Error: database is away/);
  });

  it('parks a dead outcome at once, and a replay brings it back to the consumer', async () => {
    let outcome: Outcome = dead('invalid_payload: nope');
    const calls: string[] = [];
    await consume(async (msg) => {
      calls.push(String(msg.properties.messageId));
      return outcome;
    });
    const id = randomUUID();
    await publish(id);
    await expect.poll(() => queueDepth(topology.consumers.syncInbound.deadQueue)).toBe(1);
    expect(calls).toEqual([id]);

    outcome = done;
    const conn = broker.connection;
    if (!conn) throw new Error('not connected');
    const replayed = await replayDeadLetters(
      conn,
      topology.consumers.syncInbound.deadQueue,
      topology.consumers.syncInbound.name,
    );
    expect(replayed).toBe(1);
    await expect.poll(() => calls).toEqual([id, id]);
    expect(await queueDepth(topology.consumers.syncInbound.deadQueue)).toBe(0);
  });

  it('parks a park outcome unchanged with its reason, counts it by its labels, and a replay brings it back', async () => {
    let outcome: Outcome = park('unknown_channel: no account 42', { provider: 'whatsapp' });
    const calls: string[] = [];
    const parked = parkedCounter();
    const metrics = await consume(
      async (msg) => {
        calls.push(String(msg.properties.messageId));
        return outcome;
      },
      { parked },
    );
    const id = randomUUID();
    await publish(id);
    const { parkedQueue, deadQueue, name } = topology.consumers.syncInbound;
    await expect.poll(() => queueDepth(parkedQueue as string)).toBe(1);
    expect(await queueDepth(deadQueue)).toBe(0);
    expect(await counted(parked)).toEqual([{ provider: 'whatsapp', reason: 'unknown_channel', n: 1 }]);
    expect((await metrics.consumed.get()).values).toMatchObject([{ labels: { outcome: 'park' }, value: 1 }]);
    const conn = broker.connection;
    if (!conn) throw new Error('not connected');
    const [letter] = await listDeadLetters(conn, parkedQueue as string);
    expect(letter).toMatchObject({ messageId: id, type: 'test.v1', reason: 'unknown_channel: no account 42' });
    expect(JSON.parse(letter?.body ?? '{}')).toMatchObject({ id, data: { n: 1 } });

    outcome = done;
    expect(await replayDeadLetters(conn, parkedQueue as string, name)).toBe(1);
    await expect.poll(() => calls).toEqual([id, id]);
    expect(await queueDepth(parkedQueue as string)).toBe(0);
  });

  it('parks only the parked delivery of a batch, once, and settles its neighbours', async () => {
    const parkedId = randomUUID();
    const parked = parkedCounter();
    const seen: string[] = [];
    const batches: number[] = [];
    await consume(
      {
        batch: async (deliveries) => {
          batches.push(deliveries.length);
          return deliveries.map((d) => {
            seen.push(String(d.msg.properties.messageId));
            return d.msg.properties.messageId === parkedId
              ? park('channel_disabled: off', { provider: 'genesys' })
              : done;
          });
        },
      },
      { parked, batch: 10 },
    );
    await Promise.all([publish(), publish(parkedId), publish(), publish()]);
    await expect.poll(() => seen.length).toBe(4);
    await consumer?.stop();
    expect(seen.filter((id) => id === parkedId)).toHaveLength(1);
    expect(await queueDepth(topology.consumers.syncInbound.parkedQueue as string)).toBe(1);
    expect(await queueDepth(topology.consumers.syncInbound.name)).toBe(0);
    expect(await counted(parked)).toEqual([{ provider: 'genesys', reason: 'channel_disabled', n: 1 }]);
  });

  it('lets a batch short of its size wait for company up to its linger, then starts it', async () => {
    const batches: number[] = [];
    await consume(
      {
        batch: async (deliveries) => {
          batches.push(deliveries.length);
          return deliveries.map(() => done);
        },
      },
      { batch: 10, lingerMs: 400, lingerAlways: true },
    );
    const started = performance.now();
    // One after the other, each confirmed before the next: without a linger the first is alone.
    for (let i = 0; i < 3; i++) await publish();
    await expect.poll(() => batches).toEqual([3]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('starts a lone delivery to an idle consumer at once, its linger notwithstanding', async () => {
    const batches: number[] = [];
    await consume(
      {
        batch: async (deliveries) => {
          batches.push(deliveries.length);
          return deliveries.map(() => done);
        },
      },
      { batch: 10, lingerMs: 2_000 },
    );
    const started = performance.now();
    await publish();
    await expect.poll(() => batches, { timeout: 1_000 }).toEqual([1]);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('dead-letters a park outcome on a queue without a parking queue, rather than losing or looping it', async () => {
    // Every worker queue has a parking queue now: this one is the assignment-worker's without it.
    const { parkedQueue: _, ...rest } = topology.consumers.assignmentEvents;
    const queue: ConsumedQueue = rest;
    expect(queue.parkedQueue).toBeUndefined();
    const metrics = await consume(async () => park('unknown_channel: nobody', { provider: 'x' }), { queue });
    const id = randomUUID();
    await publisher.publishEvent(
      topology.names.events,
      'message.received',
      createEvent({ id, source: '/test', type: 'test.v1', data: {} }),
      { mandatory: true },
    );
    await expect.poll(() => queueDepth(queue.deadQueue)).toBe(1);
    const conn = broker.connection;
    if (!conn) throw new Error('not connected');
    const [letter] = await listDeadLetters(conn, queue.deadQueue);
    expect(letter?.reason).toMatch(/^unparkable: .* has no parking queue; unknown_channel: nobody/);
    expect((await metrics.deadLettered.get()).values).toMatchObject([{ labels: { reason: 'unparkable' }, value: 1 }]);
  });

  it('finishes the deliveries in hand before stop() resolves', async () => {
    let finished = 0;
    let started = 0;
    await consume(async () => {
      started++;
      await new Promise((r) => setTimeout(r, 200));
      finished++;
      return done;
    });
    await Promise.all([publish(), publish(), publish()]);
    await expect.poll(() => started).toBe(3);
    await consumer?.stop();
    expect(finished).toBe(3);
    expect(await queueDepth(topology.consumers.syncInbound.name)).toBe(0);
  });
});

describe('Publisher', () => {
  it('fails a mandatory publish that no queue takes', async () => {
    const event = createEvent({ source: '/test', type: 'test.v1', data: {} });
    await expect(
      publisher.publishEvent(topology.names.inbound, 'nobody.listens', event, { mandatory: true }),
    ).rejects.toMatchObject({ name: 'PublishFailedError', reason: 'unroutable' });
    expect(PublishFailedError).toBeDefined();
  });

  it('confirms many publishes pipelined at once', async () => {
    await Promise.all(Array.from({ length: 500 }, () => publish()));
    expect(await queueDepth(topology.consumers.syncInbound.name)).toBe(500);
  });

  it('fails fast while the broker is not connected', async () => {
    await broker.close();
    await expect(publish()).rejects.toBeInstanceOf(BrokerUnavailableError);
  });
});

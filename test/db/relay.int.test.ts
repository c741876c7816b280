import { createEvent } from '@switchboard/contracts';
import { appendOutbox, createDb, type Db, OutboxRelay, relayMetrics, transaction } from '@switchboard/db';
import {
  Broker,
  createLogger,
  createRegistry,
  Publisher,
  publisherMetrics,
  switchboardTopology,
} from '@switchboard/platform';
import {
  collectEvents,
  createTestDatabase,
  type EventCollector,
  type TestDatabase,
  testNamespace,
  testUrls,
} from '@switchboard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const logger = createLogger('test', 'silent');
let database: TestDatabase;
let db: Db;
let ns: ReturnType<typeof testNamespace>;
let broker: Broker;
let publisher: Publisher;
let events: EventCollector;
const relays: OutboxRelay[] = [];
const topology = () => switchboardTopology(ns.ns);

beforeEach(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { max: 6 });
  ns = testNamespace();
  broker = new Broker(testUrls.amqp, topology(), logger, publisherMetrics(createRegistry('t')));
  publisher = new Publisher(broker, publisherMetrics(createRegistry('t')), logger);
  await publisher.start();
  broker.start();
  await broker.ready();
  events = await collectEvents(topology().names.events);
});

afterEach(async () => {
  for (const r of relays.splice(0)) await r.stop();
  await events.close();
  await publisher.close();
  await broker.close();
  await db.pool.end();
  await Promise.all([database.drop(), ns.cleanup()]);
});

function startRelay(pollMs = 10_000) {
  const metrics = relayMetrics(createRegistry('t'));
  const relay = new OutboxRelay({ pool: db.pool, publisher, logger, metrics, pollMs, batchSize: 50 });
  relay.start();
  relays.push(relay);
  return { relay, metrics };
}

const append = (aggregate: string, seq: number) =>
  transaction(db.pool, (_tx, client) =>
    appendOutbox(client, [
      {
        exchange: topology().names.events,
        routingKey: 'message.received',
        event: createEvent({ source: '/test', type: 't.v1', subject: aggregate, data: { seq } }),
      },
    ]),
  );

describe('OutboxRelay', () => {
  it('publishes every committed event once, in order per aggregate, and marks it published', async () => {
    for (let seq = 0; seq < 120; seq++) await append(`agg-${seq % 3}`, seq);
    startRelay();
    await expect.poll(() => events.received.length, { timeout: 10_000 }).toBe(120);
    for (const agg of ['agg-0', 'agg-1', 'agg-2']) {
      const seqs = events.received
        .filter((r) => r.event.subject === agg)
        .map((r) => (r.event.data as { seq: number }).seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(seqs).toHaveLength(40);
    }
    await expect
      .poll(
        async () =>
          (await db.pool.query('select count(*)::int as n from outbox where published_at is null')).rows[0]?.n,
      )
      .toBe(0);
  });

  it('wakes on NOTIFY instead of waiting for its poll', async () => {
    startRelay(60_000);
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await append('agg', 1);
    await expect.poll(() => events.received.length, { timeout: 5_000, interval: 10 }).toBe(1);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('lets one relay lead and hands over when the leader stops', async () => {
    const a = startRelay(100);
    const b = startRelay(100);
    const leaderValue = async (r: typeof a) => (await r.metrics.leader.get()).values[0]?.value ?? 0;
    const leaders = async () => (await leaderValue(a)) + (await leaderValue(b));
    await expect.poll(leaders).toBe(1);
    const leader = (await a.metrics.leader.get()).values[0]?.value === 1 ? a : b;
    const follower = leader === a ? b : a;
    await leader.relay.stop();
    await expect.poll(async () => (await follower.metrics.leader.get()).values[0]?.value, { timeout: 5_000 }).toBe(1);
    await append('agg', 1);
    await expect.poll(() => events.received.length).toBe(1);
  });

  it('publishes nothing for a transaction that rolled back', async () => {
    startRelay(100);
    await transaction(db.pool, async (_tx, client) => {
      await appendOutbox(client, [
        {
          exchange: topology().names.events,
          routingKey: 'message.received',
          event: createEvent({ source: '/test', type: 't.v1', subject: 'x', data: {} }),
        },
      ]);
      throw new Error('rollback');
    }).catch(() => undefined);
    await append('agg', 2);
    await expect.poll(() => events.received.length).toBe(1);
    expect(events.received[0]?.event.data).toEqual({ seq: 2 });
  });
});

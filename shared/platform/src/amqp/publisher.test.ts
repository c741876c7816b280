import { EventEmitter } from 'node:events';
import type { ConfirmChannel, Connection } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { createRegistry, publisherMetrics } from '../metrics.ts';
import type { Broker } from './broker.ts';
import { Publisher, type PublishFailedError } from './publisher.ts';

type Confirm = (err: Error | null) => void;

/**
 * A confirm channel whose confirms the test gives by hand (`full`: every publish also reports
 * back-pressure, confirms on the next tick and drains). A hand-written stub of the port, not a
 * mock of amqplib.
 */
class StubChannel extends EventEmitter {
  readonly waiting: Confirm[] = [];
  closed = false;
  constructor(readonly full = false) {
    super();
  }
  publish(_ex: string, _rk: string, _content: Buffer, _opts: unknown, confirmed: Confirm) {
    if (!this.full) {
      this.waiting.push(confirmed);
      return true;
    }
    setImmediate(() => {
      confirmed(null);
      this.emit('drain');
    });
    return false;
  }
  async waitForConfirms() {}
  async close() {
    this.closed = true;
    for (const c of this.waiting.splice(0)) c(new Error('channel closed'));
    this.emit('close');
  }
}

/** A publisher on a connection that hands out `channels` in turn. */
function publisherOn(channels: StubChannel[], opts = {}) {
  const handedOut: StubChannel[] = [];
  const conn = {
    createConfirmChannel: async () => {
      const ch = channels.shift() ?? new StubChannel();
      handedOut.push(ch);
      return ch as unknown as ConfirmChannel;
    },
  } as unknown as Connection;
  const broker = {
    connection: conn,
    onConnect: async (setup: (c: Connection) => Promise<void>) => setup(conn),
  } as unknown as Broker;
  const registry = createRegistry('test');
  const publisher = new Publisher(broker, publisherMetrics(registry), createLogger('test', 'silent'), opts);
  return { publisher, handedOut, registry };
}

const message = (i: number) => ({
  exchange: 'x',
  routingKey: 'k',
  content: Buffer.from('{}'),
  properties: { messageId: `m-${i}` },
  mandatory: false,
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => 'confirmed',
    (err: PublishFailedError) => err.reason,
  );
const tick = () => new Promise((resolve) => setImmediate(resolve));
const metric = async (registry: ReturnType<typeof createRegistry>, name: string, labels: Record<string, string>) =>
  (await registry.getSingleMetric(name)?.get())?.values.find((v) =>
    Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )?.value ?? 0;

describe('Publisher back-pressure', () => {
  it('leaves no close or error listener behind after each drain', async () => {
    const ch = new StubChannel(true);
    const { publisher } = publisherOn([ch]);
    await publisher.start();
    const before = { close: ch.listenerCount('close'), error: ch.listenerCount('error') };
    for (let i = 0; i < 30; i++) {
      await publisher.publish(message(i));
      // The next publish waits for the drain; let the episode end before counting.
      await tick();
    }
    expect({ close: ch.listenerCount('close'), error: ch.listenerCount('error') }).toEqual(before);
    expect(ch.listenerCount('drain')).toBe(0);
  });
});

describe('Publisher confirms', () => {
  it('fails a publish whose confirm does not come in time, then publishes on a fresh channel', async () => {
    const stalled = new StubChannel();
    const fresh = new StubChannel();
    const { publisher, handedOut, registry } = publisherOn([stalled, fresh], {
      confirmTimeoutMs: 30,
      replaceIntervalMs: 0,
    });
    await publisher.start();
    expect(await failure(publisher.publish(message(1)))).toBe('confirm_timeout');
    await expect.poll(() => handedOut.length).toBe(2);
    const next = publisher.publish(message(2));
    await tick();
    fresh.waiting.shift()?.(null);
    expect(await failure(next)).toBe('confirmed');
    // The late confirm of the timed-out publish changes nothing; the stalled channel is closed.
    stalled.waiting.shift()?.(null);
    await expect.poll(() => stalled.closed).toBe(true);
    expect(await metric(registry, 'amqp_published_total', {})).toBe(1);
    expect(await metric(registry, 'amqp_publish_failures_total', { reason: 'confirm_timeout' })).toBe(1);
    expect(await metric(registry, 'amqp_publisher_channels_replaced_total', { reason: 'confirm_timeout' })).toBe(1);
  });

  it('replaces a channel that nacks, once however many of its publishes were nacked', async () => {
    const nacking = new StubChannel();
    const fresh = new StubChannel();
    const { publisher, handedOut, registry } = publisherOn([nacking, fresh], { replaceIntervalMs: 0 });
    await publisher.start();
    const a = publisher.publish(message(1));
    const b = publisher.publish(message(2));
    await tick();
    for (const c of nacking.waiting.splice(0)) c(new Error('message nacked'));
    expect([await failure(a), await failure(b)]).toEqual(['nacked', 'nacked']);
    await expect.poll(() => handedOut.length).toBe(2);
    const next = publisher.publish(message(3));
    await tick();
    expect(fresh.waiting).toHaveLength(1);
    fresh.waiting.shift()?.(null);
    expect(await failure(next)).toBe('confirmed');
    expect(await metric(registry, 'amqp_publisher_channels_replaced_total', { reason: 'nacked' })).toBe(1);
  });

  it('opens a new channel when the broker closes the one in use on a live connection', async () => {
    const closing = new StubChannel();
    const { publisher, handedOut } = publisherOn([closing], { replaceIntervalMs: 0 });
    await publisher.start();
    const pending = publisher.publish(message(1));
    await tick();
    await closing.close();
    expect(await failure(pending)).toBe('channel_closed');
    await expect.poll(() => handedOut.length).toBe(2);
    await expect.poll(() => publisher.available).toBe(true);
  });
});

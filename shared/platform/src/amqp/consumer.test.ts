import type { Channel, ConsumeMessage } from 'amqplib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logger.ts';
import { consumerMetrics, createRegistry } from '../metrics.ts';
import type { Broker } from './broker.ts';
import { Consumer, type Delivery } from './consumer.ts';
import { done } from './outcome.ts';
import type { Publisher } from './publisher.ts';
import type { ConsumedQueue } from './topology.ts';

/**
 * The consumer's batch linger against a stub channel, on fake timers: every delivery is handed
 * over at a chosen moment, and each batch records when it started and when its oldest arrived.
 */

const queue: ConsumedQueue = {
  name: 'linger.test',
  retryDelaysMs: [50],
  maxAttempts: 3,
  retryQueue: () => 'linger.test.retry',
  deadQueue: 'linger.test.dead',
};

interface Started {
  size: number;
  at: number;
  /** How long its oldest delivery waited for it. */
  waited: number;
}

let deliver: (msg: ConsumeMessage) => void;
let acked: number;
let batches: Started[];
let consumer: Consumer;

function stubChannel(): Channel {
  const ch = {
    on: () => ch,
    prefetch: async () => undefined,
    consume: async (_queue: string, onMessage: (msg: ConsumeMessage | null) => void) => {
      deliver = onMessage;
      return { consumerTag: 'tag' };
    },
    cancel: async () => undefined,
    close: async () => undefined,
    ack: () => {
      acked++;
    },
  };
  return ch as unknown as Channel;
}

let sent = 0;
const message = (): ConsumeMessage =>
  ({
    content: Buffer.from('{}'),
    fields: { deliveryTag: ++sent, redelivered: false, exchange: '', routingKey: queue.name, consumerTag: 'tag' },
    properties: { messageId: `m${sent}`, headers: { arrived: performance.now() } },
  }) as unknown as ConsumeMessage;

async function start(batch: { maxSize: number; lingerMs: number; lingerAlways?: boolean }) {
  const channel = stubChannel();
  const broker = {
    onConnect: async (setup: (conn: unknown) => Promise<void>) => setup({ createChannel: async () => channel }),
  };
  consumer = new Consumer(
    broker as unknown as Broker,
    {} as Publisher,
    queue,
    {
      batch: async (deliveries: Delivery[]) => {
        const now = performance.now();
        const oldest = Number(deliveries[0]?.msg.properties.headers?.arrived);
        batches.push({ size: deliveries.length, at: now, waited: now - oldest });
        return deliveries.map(() => done);
      },
    },
    {
      prefetch: 100,
      logger: createLogger('test', 'silent'),
      metrics: consumerMetrics(createRegistry('test')),
      batch: { concurrency: 1, ...batch },
    },
  );
  await consumer.start();
}

/** One delivery every `gapMs`, `n` of them, the clock moving between them. */
async function stream(n: number, gapMs: number) {
  for (let i = 0; i < n; i++) {
    deliver(message());
    await vi.advanceTimersByTimeAsync(gapMs);
  }
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  acked = 0;
  batches = [];
});

afterEach(async () => {
  await consumer.stop();
  vi.useRealTimers();
});

describe('Consumer batch linger', () => {
  it('handles a lone delivery to an idle consumer at once', async () => {
    await start({ maxSize: 10, lingerMs: 10 });
    deliver(message());
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([{ size: 1, at: 0, waited: 0 }]);
  });

  it('handles a lone delivery after a quiet spell at once, though a busy stream came before it', async () => {
    await start({ maxSize: 10, lingerMs: 10 });
    await stream(20, 2);
    await vi.advanceTimersByTimeAsync(1_000);
    const before = batches.length;
    deliver(message());
    await vi.advanceTimersByTimeAsync(0);
    expect(batches.slice(before)).toEqual([{ size: 1, at: performance.now(), waited: 0 }]);
  });

  it('lets batches of a steady stream wait for company, never past the linger after their oldest', async () => {
    await start({ maxSize: 10, lingerMs: 10 });
    await stream(30, 2);
    await vi.advanceTimersByTimeAsync(20);
    // The first three go alone (no pace yet); then one batch per linger of 2 ms arrivals, and the
    // last two go once the stream is two gaps late, short of the linger.
    expect(batches.map((b) => b.size)).toEqual([1, 1, 1, 5, 5, 5, 5, 5, 2]);
    expect(Math.max(...batches.map((b) => b.waited))).toBeLessThanOrEqual(10);
    expect(batches.at(-1)?.waited).toBe(6);
    expect(acked).toBe(30);
  });

  it('starts a full batch at once, short of the linger', async () => {
    await start({ maxSize: 3, lingerMs: 10 });
    await stream(12, 2);
    // Once the pace is known, every batch is full the moment its third delivery arrives.
    expect(batches.map((b) => b.size)).toEqual([1, 1, 1, 3, 3, 3]);
    expect(batches.slice(3).map((b) => b.waited)).toEqual([4, 4, 4]);
  });

  it('does not wait for the linger when stopping', async () => {
    await start({ maxSize: 10, lingerMs: 10 });
    await stream(6, 2);
    // The last three wait for company (a steady 2 ms pace) when stop() comes.
    expect(batches.map((b) => b.size)).toEqual([1, 1, 1]);
    const stopAt = performance.now();
    await consumer.stop();
    expect(batches.map((b) => b.size)).toEqual([1, 1, 1, 3]);
    expect(batches.at(-1)?.at).toBe(stopAt);
    expect(acked).toBe(6);
  });

  it('waits the full linger for a lone delivery when told to linger always', async () => {
    await start({ maxSize: 10, lingerMs: 10, lingerAlways: true });
    deliver(message());
    await vi.advanceTimersByTimeAsync(9);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([{ size: 1, at: 10, waited: 10 }]);
  });
});

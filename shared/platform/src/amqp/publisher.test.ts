import { EventEmitter } from 'node:events';
import type { ConfirmChannel, Connection } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { createRegistry, publisherMetrics } from '../metrics.ts';
import type { Broker } from './broker.ts';
import { Publisher } from './publisher.ts';

/**
 * A confirm channel that is always full: every publish reports back-pressure, confirms on the
 * next tick, and drains right after. A hand-written stub of the port, not a mock of amqplib.
 */
class FullChannel extends EventEmitter {
  publish(_ex: string, _rk: string, _content: Buffer, _opts: unknown, confirmed: (err: Error | null) => void) {
    setImmediate(() => {
      confirmed(null);
      this.emit('drain');
    });
    return false;
  }
}

function publisherOn(ch: FullChannel) {
  const conn = { createConfirmChannel: async () => ch as unknown as ConfirmChannel } as unknown as Connection;
  const broker = { onConnect: async (setup: (c: Connection) => Promise<void>) => setup(conn) } as unknown as Broker;
  return new Publisher(broker, publisherMetrics(createRegistry('test')), createLogger('test', 'silent'));
}

const message = (i: number) => ({
  exchange: 'x',
  routingKey: 'k',
  content: Buffer.from('{}'),
  properties: { messageId: `m-${i}` },
  mandatory: false,
});

describe('Publisher back-pressure', () => {
  it('leaves no close or error listener behind after each drain', async () => {
    const ch = new FullChannel();
    const publisher = publisherOn(ch);
    await publisher.start();
    const before = { close: ch.listenerCount('close'), error: ch.listenerCount('error') };
    for (let i = 0; i < 30; i++) {
      await publisher.publish(message(i));
      // The next publish waits for the drain; let the episode end before counting.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect({ close: ch.listenerCount('close'), error: ch.listenerCount('error') }).toEqual(before);
    expect(ch.listenerCount('drain')).toBe(0);
  });
});

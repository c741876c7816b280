import { setTimeout as sleep } from 'node:timers/promises';
import { type CloudEvent, decodeEvent } from '@switchboard/contracts';
import { switchboardTopology } from '@switchboard/platform';
import amqp from 'amqplib';
import { testUrls, uniqueSuffix } from './env.ts';

/** A unique AMQP name prefix for one test, and a cleanup that deletes everything under it. */
export function testNamespace(): { ns: string; cleanup: () => Promise<void> } {
  const ns = `t${uniqueSuffix()}.`;
  return {
    ns,
    cleanup: async () => {
      const topology = switchboardTopology(ns);
      const conn = await amqp.connect(testUrls.amqp);
      try {
        const ch = await conn.createChannel();
        for (const q of topology.queues) await ch.deleteQueue(q.name);
        for (const e of topology.exchanges) await ch.deleteExchange(e.name);
        await ch.close();
      } finally {
        await conn.close();
      }
    },
  };
}

export interface Received {
  routingKey: string;
  event: CloudEvent;
}

/**
 * Binds an exclusive queue to `exchange` and keeps every event that arrives, like a downstream
 * consumer would. Its queue is not part of the topology: closing the collector removes it.
 */
export async function collectEvents(exchange: string, pattern = '#') {
  const conn = await amqp.connect(testUrls.amqp);
  const ch = await conn.createChannel();
  await ch.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, exchange, pattern);
  const received: Received[] = [];
  await ch.consume(
    queue,
    (msg) => {
      if (!msg) return;
      const decoded = decodeEvent(msg.content);
      if (decoded.ok) received.push({ routingKey: msg.fields.routingKey, event: decoded.event });
    },
    { noAck: true },
  );
  return {
    received,
    ofKey: (key: string) => received.filter((r) => r.routingKey === key),
    close: async () => {
      await conn.close().catch(() => undefined);
    },
  };
}
export type EventCollector = Awaited<ReturnType<typeof collectEvents>>;

/** Counts the messages waiting in a queue (for dead-letter and parking checks). */
export async function queueDepth(queue: string): Promise<number> {
  const conn = await amqp.connect(testUrls.amqp);
  try {
    const ch = await conn.createChannel();
    const { messageCount } = await ch.checkQueue(queue);
    return messageCount;
  } finally {
    await conn.close();
  }
}

/** Reads up to `max` messages from a queue without consuming them (they are nacked back). */
export async function peekQueue(queue: string, max = 100) {
  const conn = await amqp.connect(testUrls.amqp);
  try {
    const ch = await conn.createChannel();
    const out: amqp.GetMessage[] = [];
    for (let i = 0; i < max; i++) {
      const msg = await ch.get(queue, { noAck: false });
      if (!msg) break;
      out.push(msg);
    }
    ch.nackAll(true);
    await sleep(10);
    return out;
  } finally {
    await conn.close();
  }
}

import { execFileSync } from 'node:child_process';
import { type CloudEvent, decodeEvent } from '@switchboard/contracts';
import { switchboardTopology, type Topology } from '@switchboard/platform';
import amqp from 'amqplib';
import { testUrls, uniqueSuffix } from './env.ts';

/**
 * A unique AMQP name prefix for one test, and a cleanup that deletes everything under it; pass
 * the topology the test declared when it differs from the default (e.g. other retry delays).
 */
export function testNamespace(): { ns: string; cleanup: (declared?: Topology) => Promise<void> } {
  const ns = `t${uniqueSuffix()}.`;
  return { ns, cleanup: (declared) => deleteNamespace(ns, { declared }) };
}

/** Deletes the default topology's names under `ns`, plus a declared topology's and extra queues. */
export async function deleteNamespace(
  ns: string,
  opts: { declared?: Topology | undefined; extraQueues?: string[] } = {},
) {
  const topologies = [switchboardTopology(ns), ...(opts.declared ? [opts.declared] : [])];
  const queues = new Set([...topologies.flatMap((t) => t.queues.map((x) => x.name)), ...(opts.extraQueues ?? [])]);
  const exchanges = new Set(topologies.flatMap((t) => t.exchanges.map((x) => x.name)));
  await deleteNames(queues, exchanges);
}

async function deleteNames(queues: Iterable<string>, exchanges: Iterable<string>): Promise<void> {
  const conn = await amqp.connect(testUrls.amqp);
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createChannel();
    for (const q of queues) await ch.deleteQueue(q);
    for (const e of exchanges) await ch.deleteExchange(e);
    await ch.close();
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/**
 * Deletes queues and exchanges of test namespaces created more than `olderThanMs` ago (the
 * namespace carries its creation time), left by runs that were killed before their cleanup. Idle
 * quorum queues still cost the broker CPU. Needs `rabbitmqctl` (a local broker); skipped without it.
 */
export async function sweepStaleNamespaces(olderThanMs = 60 * 60 * 1000): Promise<void> {
  const list = (what: string) => {
    try {
      return execFileSync('rabbitmqctl', ['-q', `list_${what}`, 'name'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .split('\n')
        .slice(1);
    } catch {
      return [];
    }
  };
  const cutoff = Date.now() - olderThanMs;
  const stale = (name: string) => {
    const m = /^t([0-9a-z]{8})[0-9a-z]*\./.exec(name);
    return m ? Number.parseInt(m[1] as string, 36) < cutoff : false;
  };
  const queues = list('queues').filter(stale);
  const exchanges = list('exchanges').filter(stale);
  if (queues.length + exchanges.length > 0) await deleteNames(queues, exchanges);
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

/**
 * The events waiting in a queue, read without removing them: each is fetched unacked and all go
 * back, in order, when the channel closes (for the parking queue, which nothing consumes).
 */
export async function peekQueue(queue: string, limit = 100): Promise<Received[]> {
  const conn = await amqp.connect(testUrls.amqp);
  try {
    const ch = await conn.createChannel();
    const out: Received[] = [];
    for (let i = 0; i < limit; i++) {
      const msg = await ch.get(queue, { noAck: false });
      if (!msg) break;
      const decoded = decodeEvent(msg.content);
      if (decoded.ok) out.push({ routingKey: msg.fields.routingKey, event: decoded.event });
    }
    await ch.close();
    return out;
  } finally {
    await conn.close();
  }
}

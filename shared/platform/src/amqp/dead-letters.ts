import type { ConfirmChannel, GetMessage } from 'amqplib';
import type { AmqpConnection } from './broker.ts';
import { ATTEMPT_HEADER, type ConfirmedSend, REASON_HEADER, republish } from './republish.ts';
import type { Topology } from './topology.ts';

/** A parked message as an operator sees it. */
export interface DeadLetter {
  position: number;
  messageId: string;
  type: string | undefined;
  reason: string;
  attempts: number;
  parkedAt: string | undefined;
  body: string;
}

/**
 * The queues that hold what needs a person: every consumer's `.dead` queue and its `.parked` one
 * (both replay to the consumer), and the edges' parking (read only).
 */
export function deadLetterQueues(topology: Topology): Array<{ name: string; replayTo: string | null }> {
  return [
    ...Object.values(topology.consumers).flatMap((c) => [
      { name: c.deadQueue, replayTo: c.name },
      ...(c.parkedQueue ? [{ name: c.parkedQueue, replayTo: c.name }] : []),
    ]),
    { name: topology.names.parked, replayTo: null },
  ];
}

function describe(msg: GetMessage, position: number): DeadLetter {
  const headers = msg.properties.headers ?? {};
  const death = (headers['x-death'] as Array<{ reason?: string; time?: { value?: number } }> | undefined)?.[0];
  return {
    position,
    messageId: String(msg.properties.messageId ?? ''),
    type: msg.properties.type,
    reason: String(headers[REASON_HEADER] ?? (death?.reason ? `broker: ${death.reason}` : 'unknown')),
    attempts: Number(headers[ATTEMPT_HEADER] ?? headers['x-delivery-count'] ?? 1),
    parkedAt: death?.time?.value ? new Date(death.time.value * 1000).toISOString() : undefined,
    body: msg.content.toString('utf8'),
  };
}

/**
 * Reads up to `limit` messages without removing them: each is fetched unacked and all are
 * returned to the queue when the channel closes, in their original order.
 */
export async function listDeadLetters(conn: AmqpConnection, queue: string, limit = 50): Promise<DeadLetter[]> {
  const ch = await conn.createChannel();
  try {
    const out: DeadLetter[] = [];
    for (let i = 0; i < limit; i++) {
      const msg = await ch.get(queue, { noAck: false });
      if (!msg) break;
      out.push(describe(msg, i + 1));
    }
    return out;
  } finally {
    await ch.close();
  }
}

/**
 * Moves parked messages back to `target` (the consumer's main queue), optionally only those
 * whose id is in `ids`. Each copy is confirmed before its original is acked, so a crash
 * mid-replay duplicates a message at worst (the consumer's inbox absorbs it), never loses one.
 * The attempt count restarts, so a replayed message gets the full retry ladder again.
 */
export async function replayDeadLetters(
  conn: AmqpConnection,
  queue: string,
  target: string,
  opts: { ids?: Set<string>; limit?: number } = {},
): Promise<number> {
  const ch: ConfirmChannel = await conn.createConfirmChannel();
  const send: ConfirmedSend = (m) => {
    ch.publish(m.exchange, m.routingKey, m.content, { ...m.properties, mandatory: m.mandatory });
    return ch.waitForConfirms();
  };
  let replayed = 0;
  try {
    const skipped: GetMessage[] = [];
    for (let i = 0; i < (opts.limit ?? Number.POSITIVE_INFINITY); i++) {
      const msg = await ch.get(queue, { noAck: false });
      if (!msg) break;
      if (opts.ids && !opts.ids.has(String(msg.properties.messageId))) {
        skipped.push(msg);
        continue;
      }
      await republish(send, msg, { exchange: '', routingKey: target });
      ch.ack(msg);
      replayed++;
    }
    for (const msg of skipped) ch.nack(msg, false, true);
    return replayed;
  } finally {
    await ch.close();
  }
}

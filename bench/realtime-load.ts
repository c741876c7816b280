import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEvent } from '@switchboard/contracts';
import { switchboardTopology } from '@switchboard/platform';
import amqp from 'amqplib';
import type { BenchContext } from './context.ts';
import { benchClock } from './realtime-clients.ts';

/**
 * The realtime bench's load: domain events on `switchboard.events` at a fixed rate (open loop),
 * as the outbox relay would publish them, each carrying the time it was due (`benchDueAt`).
 */
export const RATE = 500;

/** The event due at `i`, and who must get it: its conversation's client, plus the queue's on a chat event. */
function eventAt(i: number, tenantId: string, conversations: string[], dueAt: number) {
  const conversationId = conversations[i % conversations.length] as string;
  const chat = i % 10 === 9;
  const at = new Date(dueAt).toISOString();
  const data = chat
    ? { chatId: conversationId, operatorId: 'op-bench', assignmentId: i + 1, mode: 'pull', waitedMs: 0, at }
    : {
        messageId: randomUUID(),
        conversationId,
        provider: 'whatsapp',
        providerMessageId: `wamid.bench-${i}`,
        previousStatus: 'sent',
        status: 'delivered',
        at,
      };
  const key = chat ? 'chat.assigned' : 'message.status.changed';
  const ev = createEvent({
    source: 'bench',
    type: `switchboard.${key}.v1`,
    subject: conversationId,
    tenantid: tenantId,
    data: { ...data, benchDueAt: dueAt },
  });
  return { key, ev, conversationId, toQueue: chat };
}

/** Publishes at RATE for `seconds`, open loop; returns each event's expected receivers. */
export async function publishAtRate(ctx: BenchContext, tenantId: string, conversations: string[], seconds: number) {
  const conn = await amqp.connect(ctx.env.amqpUrl);
  const ch = await conn.createConfirmChannel();
  const exchange = switchboardTopology(ctx.env.namespace).names.events;
  const expected: Array<{ id: string; conversationId: string; toQueue: boolean; dueAt: number; sentAt: number }> = [];
  const total = RATE * seconds;
  const t0 = benchClock();
  try {
    for (let i = 0; i < total; i++) {
      const dueAt = t0 + (i * 1000) / RATE;
      const wait = dueAt - benchClock();
      if (wait > 1) await sleep(wait);
      const { key, ev, conversationId, toQueue } = eventAt(i, tenantId, conversations, dueAt);
      ch.publish(exchange, key, Buffer.from(JSON.stringify(ev)), { messageId: ev.id, persistent: true });
      expected.push({ id: ev.id, conversationId, toQueue, dueAt, sentAt: benchClock() });
    }
    // Confirms are awaited once at the end: the bus's own confirm latency is not the gateway's.
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
  return { expected, lastSentAt: benchClock() };
}

import { amqpProperties, type CloudEvent, encodeEvent } from '@switchboard/contracts';
import amqp from 'amqplib';
import { testUrls } from './env.ts';

/**
 * Publishes inbound events to `exchange` as an edge does (persistent, mandatory, confirmed),
 * without the HTTP edge: for events a webhook cannot produce as they are, e.g. a second report of
 * one status under an event id of its own.
 */
export async function publishInbound(exchange: string, routingKey: string, ...events: CloudEvent[]): Promise<void> {
  const conn = await amqp.connect(testUrls.amqp);
  try {
    const ch = await conn.createConfirmChannel();
    for (const e of events) ch.publish(exchange, routingKey, encodeEvent(e), { ...amqpProperties(e), mandatory: true });
    await ch.waitForConfirms();
    await ch.close();
  } finally {
    await conn.close();
  }
}

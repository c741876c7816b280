import { type Delivery, type Publisher, REASON_HEADER } from '@switchboard/platform';
import type { Metrics } from './metrics.ts';

/**
 * Sets an inbound event aside when no active channel claims its account: the delivery is copied
 * unchanged (body, id, type, headers, plus the reason) to the consumer's parking queue, confirmed
 * before the caller acks the original, and counted. Nothing is lost and nothing retries; once the
 * channel exists (or is enabled again) an operator replays them to the consumer with
 * `npm run dlq -- replay <queue>`, where they are applied like any event.
 */
export function createParker(publisher: Publisher, queue: string, metrics: Pick<Metrics, 'parked'>) {
  return async (provider: string, reason: string, msg: Delivery['msg']): Promise<void> => {
    const { properties } = msg;
    await publisher.publish({
      exchange: '',
      routingKey: queue,
      content: msg.content,
      mandatory: true,
      properties: {
        messageId: String(properties.messageId),
        type: properties.type,
        contentType: properties.contentType,
        timestamp: properties.timestamp,
        persistent: true,
        headers: { ...properties.headers, [REASON_HEADER]: reason.slice(0, 1000) },
      },
    });
    metrics.parked.inc({ provider, reason: reason.split(':')[0] ?? reason });
  };
}

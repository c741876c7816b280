import type { Channel } from 'amqplib';
import type { Logger } from '../logger.ts';
import { Gauge, type Registry } from '../metrics.ts';
import type { Broker } from './broker.ts';

export const queueDepthMetric = (registry: Registry) =>
  new Gauge({
    name: 'amqp_queue_messages',
    help: 'Messages ready in a queue, as of the last sample',
    labelNames: ['queue'] as const,
    registers: [registry],
  });

/**
 * Samples the depth of the given queues every `everyMs` on a channel of its own (a passive
 * declare, so a missing queue closes only that channel). The queue label is the name without
 * the namespace prefix, so it stays bounded.
 */
export function sampleQueueDepths(
  broker: Broker,
  queues: string[],
  opts: { gauge: ReturnType<typeof queueDepthMetric>; logger: Logger; everyMs: number; namespace: string },
): { stop: () => void } {
  let channel: Channel | undefined;
  let busy = false;
  const sample = async (conn = broker.connection) => {
    if (busy || !conn) return;
    busy = true;
    try {
      channel ??= await conn.createChannel();
      channel.on('error', () => undefined);
      channel.on('close', () => {
        channel = undefined;
      });
      for (const q of queues) {
        const { messageCount } = await channel.checkQueue(q);
        opts.gauge.set({ queue: q.slice(opts.namespace.length) }, messageCount);
      }
    } catch (err) {
      opts.logger.debug({ err }, 'queue depth sample failed');
      channel = undefined;
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void sample(), opts.everyMs);
  timer.unref();
  // A first sample as soon as (and whenever) the broker connects, not a period later.
  void broker.onConnect(async (conn) => {
    channel = undefined;
    setImmediate(() => void sample(conn));
  });
  return {
    stop: () => {
      clearInterval(timer);
      void channel?.close().catch(() => undefined);
    },
  };
}

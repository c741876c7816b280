import { relayMetrics } from '@switchboard/db';
import {
  Counter,
  consumerMetrics,
  createRegistry,
  httpMetrics,
  lockMetrics,
  publisherMetrics,
  queueDepthMetric,
} from '@switchboard/platform';

export function createMetrics() {
  const registry = createRegistry('sync-worker');
  return {
    registry,
    http: httpMetrics(registry),
    publisher: publisherMetrics(registry),
    consumer: consumerMetrics(registry),
    relay: relayMetrics(registry),
    locks: lockMetrics(registry),
    queueDepth: queueDepthMetric(registry),
    messagesStored: new Counter({
      name: 'messages_stored_total',
      help: 'Messages stored, by provider and direction',
      labelNames: ['provider', 'direction'] as const,
      registers: [registry],
    }),
    conversationsOpened: new Counter({
      name: 'conversations_opened_total',
      help: 'Conversations created by a first message, by provider',
      labelNames: ['provider'] as const,
      registers: [registry],
    }),
    statuses: new Counter({
      name: 'delivery_statuses_total',
      help: 'Delivery status reports, by result (applied, held, stale)',
      labelNames: ['provider', 'result'] as const,
      registers: [registry],
    }),
    leadEvents: new Counter({
      name: 'lead_events_total',
      help: 'Lead state machine events, by event and result (moved, absorbed, ignore, reject)',
      labelNames: ['event', 'result'] as const,
      registers: [registry],
    }),
    emailThreading: new Counter({
      name: 'email_threading_total',
      help: 'Inbound emails by how they found their conversation (references, subject, new)',
      labelNames: ['match'] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

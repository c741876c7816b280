import { relayMetrics } from '@switchboard/db';
import {
  Counter,
  consumerMetrics,
  createRegistry,
  Gauge,
  Histogram,
  httpMetrics,
  publisherMetrics,
  queueDepthMetric,
} from '@switchboard/platform';

export function createMetrics() {
  const registry = createRegistry('assignment-worker');
  return {
    registry,
    http: httpMetrics(registry),
    publisher: publisherMetrics(registry),
    consumer: consumerMetrics(registry),
    relay: relayMetrics(registry),
    queueDepth: queueDepthMetric(registry),
    chatsWaiting: new Gauge({
      name: 'chats_waiting',
      help: 'Chats waiting for an operator (all tenants), sampled every 10 s',
      registers: [registry],
    }),
    waitTime: new Histogram({
      name: 'chat_wait_seconds',
      help: 'How long a customer waited in the queue before an operator was assigned, by mode (pull, auto)',
      labelNames: ['mode'] as const,
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [registry],
    }),
    assignments: new Counter({
      name: 'chat_assignments_total',
      help: 'Assignment attempts by mode and outcome (assigned, none_waiting, at_capacity, not_online)',
      labelNames: ['mode', 'outcome'] as const,
      registers: [registry],
    }),
    releases: new Counter({
      name: 'chat_releases_total',
      help: 'Assignments ended, by reason (replied, released, idle, completed, operator_offline)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    sameOperatorExcluded: new Counter({
      name: 'chat_same_operator_excluded_total',
      help: 'next-chat calls where the same-operator rule kept a waiting chat from the operator who answered it last',
      registers: [registry],
    }),
    stuck: new Counter({
      name: 'chats_stuck_total',
      help: 'Chats that waited on the customer too long, by action (complete, flag)',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

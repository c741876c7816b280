import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export const httpMetrics = (registry: Registry) => ({
  requests: new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  }),
  duration: new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request',
    labelNames: ['method', 'route'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  }),
});
export type HttpMetrics = ReturnType<typeof httpMetrics>;

export const replayMetrics = (registry: Registry) => ({
  resets: new Counter({
    name: 'replay_cache_resets_total',
    help: 'Times the replay cache was found without its up-since marker (new, or lost its state), by scope',
    labelNames: ['scope'] as const,
    registers: [registry],
  }),
  refusedAfterLoss: new Counter({
    name: 'replay_refused_after_loss_total',
    help: 'Signed requests refused because they were signed before the replay cache lost its state, by scope',
    labelNames: ['scope'] as const,
    registers: [registry],
  }),
});
export type ReplayMetrics = ReturnType<typeof replayMetrics>;

export const publisherMetrics = (registry: Registry) => ({
  published: new Counter({
    name: 'amqp_published_total',
    help: 'Messages the broker confirmed, by exchange',
    labelNames: ['exchange'] as const,
    registers: [registry],
  }),
  failed: new Counter({
    name: 'amqp_publish_failures_total',
    help: 'Publishes that were not confirmed, by exchange and reason',
    labelNames: ['exchange', 'reason'] as const,
    registers: [registry],
  }),
  connected: new Gauge({
    name: 'amqp_connected',
    help: '1 while the broker connection is open',
    registers: [registry],
  }),
  reconnects: new Counter({
    name: 'amqp_reconnects_total',
    help: 'Broker connections opened after the first one',
    registers: [registry],
  }),
  channelsReplaced: new Counter({
    name: 'amqp_publisher_channels_replaced_total',
    help: 'Publisher channels replaced on a live connection, by reason (nacked, confirm_timeout, closed)',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
});
export type PublisherMetrics = ReturnType<typeof publisherMetrics>;

export const consumerMetrics = (registry: Registry) => ({
  paused: new Gauge({
    name: 'consumer_paused',
    help: '1 while the consumer is paused because a dependency it needs is unreachable',
    labelNames: ['queue'] as const,
    registers: [registry],
  }),
  pauses: new Counter({
    name: 'consumer_pauses_total',
    help: 'Times the consumer paused for an unreachable dependency (deliveries held, no attempt spent)',
    labelNames: ['queue'] as const,
    registers: [registry],
  }),
  consumed: new Counter({
    name: 'events_consumed_total',
    help: 'Deliveries settled, by queue and outcome (done, skipped, retry, dead, park)',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
  }),
  retried: new Counter({
    name: 'events_retried_total',
    help: 'Deliveries sent to a delay queue for another attempt',
    labelNames: ['queue'] as const,
    registers: [registry],
  }),
  deadLettered: new Counter({
    name: 'events_dead_lettered_total',
    help: 'Deliveries parked in the dead-letter queue, by reason',
    labelNames: ['queue', 'reason'] as const,
    registers: [registry],
  }),
  handlerDuration: new Histogram({
    name: 'handler_duration_seconds',
    help: 'Time from delivery to settlement',
    labelNames: ['queue', 'outcome'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  }),
  inFlight: new Gauge({
    name: 'events_in_flight',
    help: 'Deliveries being handled now',
    labelNames: ['queue'] as const,
    registers: [registry],
  }),
});
export type ConsumerMetrics = ReturnType<typeof consumerMetrics>;

export const lockMetrics = (registry: Registry) => ({
  contention: new Counter({
    name: 'lock_contention_total',
    help: 'Lock acquisitions that found the lock held and had to wait',
    labelNames: ['scope'] as const,
    registers: [registry],
  }),
  timeouts: new Counter({
    name: 'lock_wait_timeouts_total',
    help: 'Lock acquisitions that gave up waiting',
    labelNames: ['scope'] as const,
    registers: [registry],
  }),
});
export type LockMetrics = ReturnType<typeof lockMetrics>;

import {
  Counter,
  consumerMetrics,
  createRegistry,
  Gauge,
  Histogram,
  httpMetrics,
  publisherMetrics,
} from '@switchboard/platform';

export function createMetrics() {
  const registry = createRegistry('realtime');
  const m = (help: string) => ({ help, registers: [registry] });
  return {
    registry,
    http: httpMetrics(registry),
    publisher: publisherMetrics(registry),
    consumer: consumerMetrics(registry),
    connections: new Gauge({ name: 'realtime_connections', ...m('Open WebSocket connections on this replica') }),
    subscriptions: new Gauge({ name: 'realtime_subscriptions', ...m('Topic subscriptions held by this replica') }),
    liveChannels: new Gauge({
      name: 'realtime_live_channels',
      ...m("Tenant topic channels this replica is subscribed to (its clients' topics)"),
    }),
    liveMessages: new Counter({
      name: 'realtime_live_messages_total',
      ...m('Messages this replica read off its live channels (one per event and subscribed topic)'),
    }),
    appended: new Counter({
      name: 'realtime_events_logged_total',
      ...m('Events taken off the bus, by outcome: appended to the replay log, duplicate, or not pushed'),
      labelNames: ['outcome'] as const,
    }),
    fannedOut: new Counter({
      name: 'realtime_events_fanned_out_total',
      ...m('Event frames sent to clients, live or replayed'),
      labelNames: ['path'] as const,
    }),
    latency: new Histogram({
      name: 'realtime_delivery_latency_seconds',
      ...m('From the event leaving the bus to its frame being written to a client, live frames only'),
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    }),
    dropped: new Counter({
      name: 'realtime_clients_dropped_total',
      ...m('Clients disconnected by the gateway, by reason (slow, heartbeat, flood, shutdown, resync)'),
      labelNames: ['reason'] as const,
    }),
    replays: new Counter({
      name: 'realtime_replays_total',
      ...m('Resumes by last event id, by outcome (ok, gap: the client must reload)'),
      labelNames: ['outcome'] as const,
    }),
    authFailures: new Counter({
      name: 'realtime_auth_failures_total',
      ...m('Connections and token requests refused, by reason'),
      labelNames: ['reason'] as const,
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

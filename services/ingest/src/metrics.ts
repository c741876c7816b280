import {
  Counter,
  channelSecretMetrics,
  createRegistry,
  httpMetrics,
  publisherMetrics,
  replayMetrics,
} from '@switchboard/platform';

export function createMetrics() {
  const registry = createRegistry('ingest');
  return {
    registry,
    http: httpMetrics(registry),
    publisher: publisherMetrics(registry),
    replay: replayMetrics(registry),
    channelSecrets: channelSecretMetrics(registry),
    signatureFailures: new Counter({
      name: 'webhook_signature_failures_total',
      help: 'Webhooks rejected for a missing or wrong signature, by provider',
      labelNames: ['provider'] as const,
      registers: [registry],
    }),
    normalized: new Counter({
      name: 'webhook_events_total',
      help: 'Canonical inbound events published from webhooks, by provider and kind',
      labelNames: ['provider', 'kind'] as const,
      registers: [registry],
    }),
    parked: new Counter({
      name: 'webhook_parked_total',
      help: 'Signed payloads (or parts) that could not be normalized and were parked',
      labelNames: ['provider'] as const,
      registers: [registry],
    }),
    rateLimitUnavailable: new Counter({
      name: 'rate_limit_unavailable_total',
      help: 'Requests let through unlimited because Redis could not count them',
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

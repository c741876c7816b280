import {
  Counter,
  channelSecretMetrics,
  createRegistry,
  httpMetrics,
  publisherMetrics,
  replayMetrics,
} from '@switchboard/platform';

export function createMetrics() {
  const registry = createRegistry('webhooks');
  return {
    registry,
    http: httpMetrics(registry),
    publisher: publisherMetrics(registry),
    replay: replayMetrics(registry),
    channelSecrets: channelSecretMetrics(registry),
    signatureFailures: new Counter({
      name: 'webhook_signature_failures_total',
      help: 'Webhooks rejected for a missing, wrong, stale or replayed signature, by provider and reason',
      labelNames: ['provider', 'reason'] as const,
      registers: [registry],
    }),
    senderClockClamped: new Counter({
      name: 'sender_clock_clamped_total',
      help: 'Webhooks whose occurredAt was later than the verification time plus the allowed skew, clamped, by provider',
      labelNames: ['provider'] as const,
      registers: [registry],
    }),
    parked: new Counter({
      name: 'webhook_parked_total',
      help: 'Correctly signed webhooks that could not be understood, parked for people, by provider',
      labelNames: ['provider'] as const,
      registers: [registry],
    }),
    normalized: new Counter({
      name: 'webhook_events_total',
      help: 'Canonical inbound events published from webhooks, by provider and kind',
      labelNames: ['provider', 'kind'] as const,
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

import { relayMetrics, rlsMetrics } from '@switchboard/db';
import {
  Counter,
  consumerMetrics,
  createRegistry,
  Gauge,
  Histogram,
  httpMetrics,
  lockMetrics,
  type Count as MetricCount,
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
    rls: rlsMetrics(registry),
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
    scheduledRuns: new Counter({
      name: 'scheduled_job_runs_total',
      help: 'Runs of scheduled sweeps in this replica (once per period across replicas), by job and result (ok, failed)',
      labelNames: ['job', 'result'] as const,
      registers: [registry],
    }),
    heldStatusesExpired: new Counter({
      name: 'held_statuses_expired_total',
      help: 'Delivery statuses held for a message that never arrived, dropped by the retention sweep, by provider',
      labelNames: ['provider'] as const,
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
    parked: new Counter({
      name: 'inbound_parked_total',
      help: 'Inbound events parked because no active channel claims their account, by provider and reason',
      labelNames: ['provider', 'reason'] as const,
      registers: [registry],
    }),
    statusChanges: new Counter({
      name: 'status_changes_total',
      help: 'Conversation and ticket status changes, by entity and source (agent, helpdesk, sync, system, customer)',
      labelNames: ['entity', 'source'] as const,
      registers: [registry],
    }),
    statusRejected: new Counter({
      name: 'status_requests_rejected_total',
      help: 'Status change requests refused and dead-lettered, by entity and reason',
      labelNames: ['entity', 'reason'] as const,
      registers: [registry],
    }),
    outboundRejected: new Counter({
      name: 'outbound_messages_rejected_total',
      help: 'Agent and operator replies refused and dead-lettered, by origin and reason',
      labelNames: ['origin', 'reason'] as const,
      registers: [registry],
    }),
    identityChanges: new Counter({
      name: 'customer_identity_changes_total',
      help: 'Customer identity changes applied: a user id change notice, or a merge of two customers found to be one person',
      labelNames: ['provider', 'kind'] as const,
      registers: [registry],
    }),
    customersMerged: new Counter({
      name: 'customers_merged_total',
      help: 'Merges of customers that turned out to be one person (each merge may absorb several)',
      labelNames: ['provider'] as const,
      registers: [registry],
    }),
    callsRecorded: new Counter({
      name: 'calls_recorded_total',
      help: 'Call events recorded on conversations, by provider and call event',
      labelNames: ['provider', 'event'] as const,
      registers: [registry],
    }),
    accountChanges: new Counter({
      name: 'whatsapp_account_changes_total',
      help: 'WhatsApp account-level webhooks (account, template, capability fields) published, by field',
      labelNames: ['field'] as const,
      registers: [registry],
    }),
    transfers: new Counter({
      name: 'conversation_transfers_total',
      help: 'Conversations handed from one agent to another, by origin',
      labelNames: ['origin'] as const,
      registers: [registry],
    }),
    lookupCache: new Counter({
      name: 'lookup_cache_total',
      help: 'Read API lookups by cache result (hit, miss)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    retentionRows: new Counter({
      name: 'retention_rows_total',
      help: 'Rows the retention job archived, by table and action (deleted: the row; cleared: columns such as an email body)',
      labelNames: ['table', 'action'] as const,
      registers: [registry],
    }),
    retentionLag: new Gauge({
      name: 'retention_lag_seconds',
      help: 'After the last retention run: how long the oldest data past its tenant policy has been due (0 when caught up)',
      registers: [registry],
    }),
    retentionFailures: new Counter({
      name: 'retention_run_failures_total',
      help: 'Retention runs that stopped on an error (what they archived and deleted before it stays done; the next run goes on)',
      registers: [registry],
    }),
    erasures: new Counter({
      name: 'customer_erasures_total',
      help: 'Customer erasure requests, by result (erased, already_erased, not_found)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    erasureFailures: new Counter({
      name: 'customer_erasure_failures_total',
      help: 'Customer erasures that failed at a step (database, cache), to be resumed by asking again',
      labelNames: ['step'] as const,
      registers: [registry],
    }),
    firstResponse: new Histogram({
      name: 'conversation_first_response_seconds',
      help: "From a conversation's first customer message to the first reply that answered it, by the reply's origin",
      labelNames: ['origin'] as const,
      buckets: [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400],
      registers: [registry],
    }),
    syncDuration: new Histogram({
      name: 'status_sync_duration_seconds',
      help: 'Time to decide and write one status request with everything that follows from it',
      labelNames: ['entity'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/**
 * What work inside a transaction counts, returned with its outcome and recorded (`recordCounts`)
 * only after the transaction committed: a batch that rolls back and is applied again one event at
 * a time counts each event once.
 */
export type Count = MetricCount<Metrics>;

import { relayMetrics, rlsMetrics } from '@switchboard/db';
import {
  Counter,
  consumerMetrics,
  createRegistry,
  Gauge,
  Histogram,
  httpMetrics,
  type Count as PlatformCount,
  publisherMetrics,
  queueDepthMetric,
} from '@switchboard/platform';

/** `chatsWaiting` counts the waiting chats when Prometheus scrapes (so the gauge is never stale). */
export function createMetrics(opts: { chatsWaiting?: () => Promise<number> } = {}) {
  const { chatsWaiting } = opts;
  const registry = createRegistry('assignment-worker');
  return {
    registry,
    http: httpMetrics(registry),
    publisher: publisherMetrics(registry),
    consumer: consumerMetrics(registry),
    relay: relayMetrics(registry),
    rls: rlsMetrics(registry),
    queueDepth: queueDepthMetric(registry),
    scheduledRuns: new Counter({
      name: 'scheduled_job_runs_total',
      help: 'Runs of scheduled sweeps in this replica (once per period across replicas), by job and result (ok, failed)',
      labelNames: ['job', 'result'] as const,
      registers: [registry],
    }),
    chatsWaiting: new Gauge({
      name: 'chats_waiting',
      help: 'Chats waiting for an operator (all tenants), counted at each scrape',
      registers: [registry],
      ...(chatsWaiting
        ? {
            async collect(this: Gauge) {
              try {
                this.set(await chatsWaiting());
              } catch {
                // The last value stays: a database hiccup must not fail the whole scrape.
              }
            },
          }
        : {}),
    }),
    waitTime: new Histogram({
      name: 'chat_wait_seconds',
      help: 'How long a customer waited in the queue before an operator was assigned, by mode (pull, auto); a transfer is not a queue wait',
      labelNames: ['mode'] as const,
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [registry],
    }),
    handleTime: new Histogram({
      name: 'chat_handle_seconds',
      help: 'How long an operator held a chat, from the assignment to its end, by end reason (replied, completed, idle, operator_offline, released, transfer, wrong_queue, manual_fix)',
      labelNames: ['reason'] as const,
      buckets: [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200],
      registers: [registry],
    }),
    assignments: new Counter({
      name: 'chat_assignments_total',
      help: 'Assignment attempts by mode and outcome (pull: assigned, none_waiting, at_capacity, not_online, unknown_operator; auto: assigned, none_available, refused)',
      labelNames: ['mode', 'outcome'] as const,
      registers: [registry],
    }),
    releases: new Counter({
      name: 'chat_releases_total',
      help: 'Assignments ended, by reason (replied, completed, idle, operator_offline, released, transfer, wrong_queue, manual_fix)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    sameOperatorExcluded: new Counter({
      name: 'chat_same_operator_excluded_total',
      help: 'next-chat calls where a rule kept from the operator the chat it would otherwise have got, by rule (last_replied: it answered last; idle: it was released from it for idleness)',
      labelNames: ['rule'] as const,
      registers: [registry],
    }),
    parked: new Counter({
      name: 'inbound_parked_total',
      help: 'Events parked because no active channel claims their account, by provider and reason',
      labelNames: ['provider', 'reason'] as const,
      registers: [registry],
    }),
    idleUnscheduled: new Counter({
      name: 'chat_idle_checks_unscheduled_total',
      help: 'Idle checks that could not be scheduled once their assignment committed (the sweep releases those assignments instead)',
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

/** A metric observation decided inside a transaction, recorded only after it commits (`recordCounts`). */
export type Count = PlatformCount<Metrics>;

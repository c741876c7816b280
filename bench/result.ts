import type { CpuUse } from './cpu.ts';
import type { MetricTotals } from './metrics.ts';
import type { LatencySummary } from './stats.ts';

/** One row of the report: what a scenario sent, what came out, and how fast. */
export interface ScenarioResult {
  scenario: string;
  description: string;
  /** Messages offered (webhooks posted or messages published). */
  messages: number;
  /** Distinct messages that came out the far end (event received or row committed). */
  delivered: number;
  durationMs: number;
  /** delivered / (first send → last arrival). */
  throughput: number;
  /** Last send → last arrival: how far behind the far end was when the load stopped. */
  drainMs: number;
  /** The open-loop rate asked for, or null for a max-throughput run. */
  offeredRate: number | null;
  /** End to end: send → event received (pipeline) or publish → row committed (baseline). */
  latency: LatencySummary;
  /** Time to the HTTP answer (pipeline) or to the publish confirm (baseline). */
  ack: LatencySummary;
  /**
   * Where the end-to-end latency went, for pipeline runs: POST → the sync-worker's transaction
   * began (`queued`: the edge, the inbound queue, the batch's linger, waiting for the worker),
   * that transaction → the relay stamped the event published (`relayed`: the statements, the
   * commit, the relay's wake, publish and confirm), and that transaction → the event reached the
   * collector (`applied`). From the outbox row's `created_at` (its transaction's start) and
   * `published_at`.
   */
  stages?: Record<'queued' | 'relayed' | 'applied', LatencySummary>;
  /** Non-2xx answers, transport failures or nacked publishes. */
  errors: number;
  /** Messages that came out more than once. */
  duplicates: number;
  /** Rows in Postgres for this scenario's messages, and `message.received` outbox rows. */
  stored: { rows: number; events: number } | null;
  /**
   * A consumer further down (the assignment-worker on `message.received`): how many of the
   * messages it applied, and how long after the last webhook it had them all (or gave up).
   */
  downstream?: { name: string; consumed: number; lagMs: number };
  /** Where the CPU went: ms per message by process, and cores busy (ours and the whole machine's). */
  cpu: CpuUse;
  /** The services' own counters over the run (`<service>:<metric>`), e.g. lock contention. */
  serviceMetrics: MetricTotals;
  /** What the services complained about during the run (a dependency restarted, a retry, ...). */
  warnings: string[];
  notes: string[];
}

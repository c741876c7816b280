/**
 * What a handler did with a delivery. `done` and `skipped` (a redelivery the inbox recognised)
 * ack it; `retry` sends it to a delay queue; `dead` moves it to the dead-letter queue with its
 * reason; `park` sets it aside, unchanged, in the queue's parking queue until a person acts (its
 * `labels` say what to count it under). A thrown error means "transient": the same as `retry`.
 */
export type Outcome =
  | { kind: 'done' }
  | { kind: 'skipped'; reason: string }
  /** `cause`: the error, when it threw; an unreachable dependency pauses the consumer instead. */
  | { kind: 'retry'; reason: string; cause?: unknown }
  | { kind: 'dead'; reason: string }
  | { kind: 'park'; reason: string; labels: Record<string, string> };

export const done: Outcome = { kind: 'done' };
export const skipped = (reason: string): Outcome => ({ kind: 'skipped', reason });
export const dead = (reason: string): Outcome => ({ kind: 'dead', reason });
/**
 * Valid input that cannot be applied until a person acts (e.g. an account no channel claims yet):
 * never retried, never lost, replayed to the consumer from the parking queue. `reason` starts
 * with a bounded word (`unknown_channel: …`), which labels the count with `labels`.
 */
export const park = (reason: string, labels: Record<string, string> = {}): Outcome => ({
  kind: 'park',
  reason,
  labels,
});

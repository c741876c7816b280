/**
 * A sender's clock is bounded by ours (design rule 9). Its `occurredAt` orders what it reports
 * (a ticket change older than the ticket's last one is stale; an operator report older than the
 * stored one changes nothing), so one report dated in the future would make every later real one
 * "stale" and freeze that state. A time more than `SENDER_CLOCK_SKEW_MS` past `now` (the time the
 * request was verified, or a worker's clock, which is later still) is clamped to that bound: the
 * report is kept and applied, and the next real one orders after it within a few seconds.
 * Clamped rather than refused: the sender is one of our own systems, and a refusal it retries
 * with the same date would be refused forever.
 */
export const SENDER_CLOCK_SKEW_MS = 5_000;

export interface BoundedTime {
  /** ISO time: the sender's, or the bound when the sender's was later. */
  at: string;
  clamped: boolean;
}

export function boundSenderTime(at: string, now: Date, skewMs: number = SENDER_CLOCK_SKEW_MS): BoundedTime {
  const bound = now.getTime() + skewMs;
  const t = Date.parse(at);
  // Not a time at all is the schema's business; an out-of-range one cannot be later than the bound.
  if (Number.isNaN(t) || t <= bound) return { at, clamped: false };
  return { at: new Date(bound).toISOString(), clamped: true };
}

/**
 * The adaptive batch linger: a batch short of its size waits for company only while the recent
 * pace of deliveries says company is coming. At a moderate rate a few milliseconds buy one
 * transaction (one commit, one relay pass, one settle) for several messages; a lone message after
 * a quiet spell has nobody to wait for, so it goes at once and pays no latency for the setting.
 */

/** Arrivals the pace is read from: three gaps, so one quiet spell among them keeps it from lingering. */
export const PACE_ARRIVALS = 4;

/** A stream whose next delivery is this many gaps late has paused: waiting longer only adds latency. */
const LATE_GAPS = 2;

/** The arrival times of the last few deliveries (`PACE_ARRIVALS`), oldest first. */
export class RecentArrivals {
  readonly #times: number[] = [];

  record(at: number): void {
    this.#times.push(at);
    if (this.#times.length > PACE_ARRIVALS) this.#times.shift();
  }

  get times(): readonly number[] {
    return this.#times;
  }
}

/**
 * Until when the next batch, short of its size, may wait for company; undefined when it should
 * start now. It waits only when the last `PACE_ARRIVALS` deliveries came close enough together
 * (their mean gap) that the next one is due before `lingerMs` after the oldest waiting delivery,
 * and never past that bound; nor past two gaps after the last arrival, since a stream that late
 * has paused. A delivery after a quiet spell (the spell is one of the gaps) starts at once.
 */
export function lingerUntil(oldestAt: number, lingerMs: number, arrivals: readonly number[]): number | undefined {
  const first = arrivals[0];
  const last = arrivals.at(-1);
  if (lingerMs <= 0 || arrivals.length < PACE_ARRIVALS || first === undefined || last === undefined) return undefined;
  const gap = (last - first) / (arrivals.length - 1);
  const bound = oldestAt + lingerMs;
  if (last + gap > bound) return undefined;
  return Math.min(bound, last + LATE_GAPS * gap);
}

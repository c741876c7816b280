/** Latency percentiles in milliseconds (nearest-rank), the way the report prints them. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const EMPTY: LatencySummary = { count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };

export function summarize(samples: ArrayLike<number>): LatencySummary {
  if (samples.length === 0) return EMPTY;
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    mean: round(sum / sorted.length),
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1] ?? 0),
  };
}

export const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

/** Messages per second over a window given in milliseconds. */
export const perSecond = (count: number, ms: number) => (ms > 0 ? round((count * 1000) / ms, 0) : 0);

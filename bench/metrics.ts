/**
 * The services' own counters over a load run, from their `/metrics`: what they saw while the
 * bench measured from outside (lock contention, retries, handler time), summed over labels.
 */
export type MetricTotals = Record<string, number>;

const WANTED = [
  'lock_contention_total',
  'lock_wait_timeouts_total',
  'events_consumed_total',
  'events_retried_total',
  'events_dead_lettered_total',
  'handler_duration_seconds_sum',
  'handler_duration_seconds_count',
  'outbox_published_total',
  'outbox_publish_failures_total',
  'amqp_publish_failures_total',
  'http_request_duration_seconds_sum',
  'http_request_duration_seconds_count',
  'realtime_delivery_latency_seconds_sum',
  'realtime_delivery_latency_seconds_count',
  'realtime_events_fanned_out_total',
  'realtime_clients_dropped_total',
];

export async function scrapeMetrics(services: Array<{ name: string; url: string }>): Promise<MetricTotals> {
  const totals: MetricTotals = {};
  await Promise.all(
    services.map(async (s) => {
      const text = await fetch(`${s.url}/metrics`, { signal: AbortSignal.timeout(5_000) })
        .then((r) => r.text())
        .catch(() => '');
      for (const line of text.split('\n')) {
        if (line.startsWith('#') || line === '') continue;
        const name = line.slice(0, line.search(/[{ ]/));
        if (!WANTED.includes(name)) continue;
        // The /metrics routes count themselves; leave them out of the request figures.
        if (line.includes('route="/metrics"') || line.includes('route="/readyz"')) continue;
        const value = Number(line.slice(line.lastIndexOf(' ') + 1));
        if (Number.isFinite(value)) totals[`${s.name}:${name}`] = (totals[`${s.name}:${name}`] ?? 0) + value;
      }
    }),
  );
  return totals;
}

/** What happened between two scrapes, with the two histograms turned into means (ms). */
export function metricsDelta(before: MetricTotals, after: MetricTotals): MetricTotals {
  const d: MetricTotals = {};
  for (const [k, v] of Object.entries(after)) d[k] = v - (before[k] ?? 0);
  const out: MetricTotals = {};
  for (const [k, v] of Object.entries(d)) {
    if (k.endsWith('_sum') || k.endsWith('_count')) continue;
    if (v !== 0) out[k] = Math.round(v * 1000) / 1000;
  }
  for (const [k, sum] of Object.entries(d)) {
    if (!k.endsWith('_seconds_sum')) continue;
    const base = k.slice(0, -'_seconds_sum'.length);
    const count = d[`${base}_seconds_count`] ?? 0;
    if (count > 0) out[`${base}_mean_ms`] = Math.round((sum / count) * 1e5) / 100;
  }
  return out;
}

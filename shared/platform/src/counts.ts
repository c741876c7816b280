import { type Counter, Histogram, type LabelValues } from 'prom-client';

type CountOf<K, C> =
  C extends Histogram<infer L>
    ? { metric: K; labels: LabelValues<L>; value: number }
    : C extends Counter<infer L>
      ? { metric: K; labels: LabelValues<L>; value?: number }
      : never;

/**
 * A metric observation decided inside a transaction, to be recorded only once the transaction
 * committed: a rolled-back transaction, or a batch applied again one event at a time after it
 * failed, must not count what it did not keep. `metric` names a counter or histogram of a
 * service's metrics object `M`; `value` is a counter's increment (1 by default) or a histogram's
 * observation.
 */
export type Count<M> = { [K in keyof M]: CountOf<K, M[K]> }[keyof M];

/** Records what committed work counted (call it after the commit, never inside the transaction). */
export function recordCounts<M>(metrics: M, counts: Iterable<Count<M>>): void {
  for (const c of counts) {
    const m = metrics[c.metric] as Counter<string> | Histogram<string>;
    if (m instanceof Histogram) m.observe(c.labels, c.value ?? 0);
    else m.inc(c.labels, c.value ?? 1);
  }
}

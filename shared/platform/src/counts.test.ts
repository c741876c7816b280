import { describe, expect, it } from 'vitest';
import { type Count, recordCounts } from './counts.ts';
import { Counter, Histogram, Registry } from './metrics.ts';

function metrics() {
  const registers = [new Registry()];
  return {
    stored: new Counter({ name: 'stored_total', help: 'h', labelNames: ['provider'] as const, registers }),
    duration: new Histogram({
      name: 'took_seconds',
      help: 'h',
      labelNames: ['entity'] as const,
      buckets: [1],
      registers,
    }),
  };
}

describe('recordCounts', () => {
  it('increments counters (by 1 or the value) and observes histograms, with their labels', async () => {
    const m = metrics();
    const counts: Count<typeof m>[] = [
      { metric: 'stored', labels: { provider: 'whatsapp' } },
      { metric: 'stored', labels: { provider: 'whatsapp' }, value: 2 },
      { metric: 'stored', labels: { provider: 'mailgun' } },
      { metric: 'duration', labels: { entity: 'ticket' }, value: 0.5 },
    ];
    recordCounts(m, counts);
    expect((await m.stored.get()).values.map((v) => [v.labels.provider, v.value])).toEqual([
      ['whatsapp', 3],
      ['mailgun', 1],
    ]);
    const observed = (await m.duration.get()).values.find((v) => v.metricName === 'took_seconds_sum');
    expect(observed).toMatchObject({ labels: { entity: 'ticket' }, value: 0.5 });
  });

  it('types each count by its metric: its own labels, and a value a histogram cannot go without', () => {
    type C = Count<ReturnType<typeof metrics>>;
    const ok: C[] = [{ metric: 'stored', labels: { provider: 'x' } }];
    // @ts-expect-error a label the counter does not declare
    const badLabel: C = { metric: 'stored', labels: { entity: 'x' } };
    // @ts-expect-error a histogram observation needs its value
    const noValue: C = { metric: 'duration', labels: { entity: 'x' } };
    expect([ok, badLabel, noValue]).toHaveLength(3);
  });

  it('records nothing for nothing counted', async () => {
    const m = metrics();
    recordCounts(m, []);
    expect((await m.stored.get()).values).toEqual([]);
  });
});

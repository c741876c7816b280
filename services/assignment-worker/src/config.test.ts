import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('the assignment consumer settings', () => {
  /**
   * A backlog is caught up by batching more (docs/performance.md): the deliveries in hand must
   * let every batch running at once fill. With 50 in hand shared by four batches of up to 50,
   * each held about 12 events however far behind the worker was.
   */
  it('leave room in the prefetch for every concurrent batch to fill', () => {
    const c = loadConfig({});
    expect(c.ASSIGNMENT_PREFETCH).toBeGreaterThanOrEqual(c.ASSIGNMENT_BATCH_SIZE * c.ASSIGNMENT_CONCURRENCY);
  });

  it('are read from the environment', () => {
    const c = loadConfig({ ASSIGNMENT_PREFETCH: '60', ASSIGNMENT_BATCH_SIZE: '30', ASSIGNMENT_CONCURRENCY: '2' });
    expect([c.ASSIGNMENT_PREFETCH, c.ASSIGNMENT_BATCH_SIZE, c.ASSIGNMENT_CONCURRENCY]).toEqual([60, 30, 2]);
  });
});

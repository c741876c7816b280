import { createEvent, encodeEvent } from '@switchboard/contracts';
import { createLogger, done, park } from '@switchboard/platform';
import { createBatchHandler, route } from '@switchboard/sync-worker';
import { type Pipeline, startPipeline } from '@switchboard/testing';
import type { ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';

let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline();
});
afterAll(async () => {
  await p.stop();
});

it('retries only the event that fails a batch; its neighbours are applied once, a parked one parked once', async () => {
  const applied: number[][] = [];
  const prepared: number[] = [];
  // Every event comes in on a channel of a tenant; these are the dev tenant's.
  const channel = { id: 'test', tenantId: p.tenant.tenantId, provider: 'test', accountId: 'test', status: 'active' };
  const table = new Map([
    [
      'test.numbered.v1',
      route({
        schema: z.object({ n: z.number() }),
        prepare: async (_deps, event) => {
          prepared.push(event.data.n);
          // 7 stands for an event of an account no active channel claims.
          if (event.data.n === 7) return { ok: false, outcome: park('unknown_channel: 7', { provider: 'test' }) };
          return { ok: true, value: { n: event.data.n, channel } };
        },
        lockKeys: ({ n }) => [`n:${n}`],
        apply: async (_tx, _deps, items) => {
          applied.push(items.map((i) => i.value.n));
          if (items.some((i) => i.value.n === 13)) throw new Error('poison');
          return items.map(() => ({ outcome: done, outbox: [] }));
        },
      }),
    ],
  ]);
  const worker = p.worker;
  if (!worker) throw new Error('worker not running');
  const handle = createBatchHandler(worker.deps, table);
  const ctx = { attempt: 1, logger: createLogger('test', 'silent') };
  const events = [1, 2, 13, 7, 4].map((n) => createEvent({ source: '/test', type: 'test.numbered.v1', data: { n } }));
  const deliveries = events.map((e) => ({
    msg: { content: encodeEvent(e), fields: {}, properties: { headers: {} } } as unknown as ConsumeMessage,
    ctx,
  }));

  const outcomes = await handle(deliveries);
  expect(outcomes.map((o) => o.kind)).toEqual(['done', 'done', 'retry', 'park', 'done']);
  // Parked once, before the transaction: neither the batch nor its fallback ever saw it.
  expect(prepared.filter((n) => n === 7)).toHaveLength(1);
  expect(applied.flat()).not.toContain(7);
  // The whole batch once (rolled back), then each event alone.
  expect(applied[0]).toEqual([1, 2, 13, 4]);
  expect(
    applied
      .slice(1)
      .map((a) => a[0])
      .sort(),
  ).toEqual([1, 13, 2, 4].sort());
  // Only the applied events hold an inbox claim: the poison one can be retried.
  const { rows } = await p.pool.query<{ event_id: string }>('select event_id from inbox');
  expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set([events[0], events[1], events[4]].map((e) => e?.id)));

  // Redelivered, the applied ones are recognised and skipped.
  const again = await handle(deliveries);
  expect(again.map((o) => o.kind)).toEqual(['skipped', 'skipped', 'retry', 'park', 'skipped']);
});

import { createEvent, inboundType } from '@switchboard/contracts';
import { done, park } from '@switchboard/platform';
import { createBatchHandler, type Route, route, routesByType } from '@switchboard/sync-worker';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { DEV_PHONE_NUMBER_ID } from '@switchboard/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { deliveriesOf } from '../fixtures/deliveries.ts';

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
          return items.map(() => ({ outcome: done, outbox: [], counts: [] }));
        },
      }),
    ],
  ]);
  const worker = p.worker;
  if (!worker) throw new Error('worker not running');
  const handle = createBatchHandler(worker.deps, table);
  const events = [1, 2, 13, 7, 4].map((n) => createEvent({ source: '/test', type: 'test.numbered.v1', data: { n } }));
  const deliveries = deliveriesOf(events);

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

it('counts what a batch that rolled back and was applied again one by one stored once, after each commit', async () => {
  const worker = p.worker;
  if (!worker) throw new Error('worker not running');
  const { metrics } = worker;
  const value = async (c: typeof metrics.messagesStored | typeof metrics.conversationsOpened) =>
    (await c.get()).values.reduce((n, v) => (v.labels.provider === 'whatsapp' ? n + v.value : n), 0);
  const before = { stored: await value(metrics.messagesStored), opened: await value(metrics.conversationsOpened) };

  // The real WhatsApp message route, then a route whose event fails the batch's transaction at its
  // very end (an outbox row Postgres refuses), after every route decided what it counts.
  const type = inboundType('whatsapp.message.received');
  const table = new Map<string, Route>([
    [type, routesByType.get(type) as Route],
    [
      'test.poison.v1',
      route({
        schema: z.object({}),
        prepare: async () => ({ ok: true, value: { channel: { tenantId: p.tenant.tenantId } as never } }),
        lockKeys: () => [],
        apply: async (_tx, _deps, items) =>
          items.map(({ event }) => ({
            outcome: done,
            outbox: [{ exchange: 'x', routingKey: 'x', event: { ...event, id: 'not-a-uuid' } }],
            counts: [],
          })),
      }),
    ],
  ]);
  const message = (id: string, from: string) =>
    createEvent({
      source: '/test',
      type,
      data: {
        provider: 'whatsapp',
        accountId: DEV_PHONE_NUMBER_ID,
        from,
        messageId: id,
        sentAt: '2025-03-04T09:31:12Z',
        type: 'text',
        text: id,
        raw: {},
      },
    });
  const events = [
    message('wamid.count-a', '16315551181'),
    message('wamid.count-b', '16315551181'),
    message('wamid.count-c', '16315551182'),
    createEvent({ source: '/test', type: 'test.poison.v1', data: {} }),
  ];
  const handle = createBatchHandler(worker.deps, table);
  const outcomes = await handle(deliveriesOf(events));
  expect(outcomes.map((o) => o.kind)).toEqual(['done', 'done', 'done', 'retry']);

  // Three messages in two conversations, committed once each: counted once each.
  const { rows } = await p.pool.query<{ n: string; c: string }>(
    "select count(*) n, count(distinct conversation_id) c from messages where provider_message_id like 'wamid.count-%'",
  );
  expect(rows[0]).toEqual({ n: '3', c: '2' });
  expect(await value(metrics.messagesStored)).toBe(before.stored + 3);
  expect(await value(metrics.conversationsOpened)).toBe(before.opened + 2);

  // Redelivered: skipped, nothing more counted.
  const again = await handle(deliveriesOf(events));
  expect(again.map((o) => o.kind)).toEqual(['skipped', 'skipped', 'skipped', 'retry']);
  expect(await value(metrics.messagesStored)).toBe(before.stored + 3);
  expect(await value(metrics.conversationsOpened)).toBe(before.opened + 2);
});

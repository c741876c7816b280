import { type CloudEvent, createEvent, eventId, inboundType } from '@switchboard/contracts';
import { createBatchHandler } from '@switchboard/sync-worker';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { DEV_PHONE_NUMBER_ID } from '@switchboard/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deliveriesOf } from '../fixtures/deliveries.ts';

/**
 * Any interleaving of one person's messages (under any of their ids, some with their phone),
 * delivery statuses and `user_changed_user_id` notices, cut into batches of any size and with
 * redeliveries, ends with one customer holding every id, addressed by the last one, and one live
 * conversation holding every message: against the real Postgres, through the worker's own batch
 * handler. (The rule itself is checked with many more runs in shared/domain, customer-identity.test.ts.)
 */
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline();
}, 30_000);
afterAll(async () => {
  await p.stop();
});

const at = (n: number) => new Date(Date.UTC(2026, 5, 1, 12, 0, n)).toISOString();
const messageType = inboundType('whatsapp.message.received');

type Observation =
  | { kind: 'message'; n: number; id: number; withPhone: boolean }
  | { kind: 'status'; n: number }
  | { kind: 'notice'; from: number };

function eventOf(run: string, ids: string[], phone: string, o: Observation): CloudEvent {
  const base = { provider: 'whatsapp' as const, accountId: DEV_PHONE_NUMBER_ID };
  if (o.kind === 'status') {
    const wamid = `wamid.${run}-${o.n}`;
    return createEvent({
      id: eventId('whatsapp', 'status', DEV_PHONE_NUMBER_ID, wamid, 'read'),
      source: '/test',
      type: inboundType('whatsapp.status.updated'),
      data: { ...base, messageId: wamid, status: 'read', at: at(50 + o.n), raw: {} },
    });
  }
  if (o.kind === 'notice') {
    const wamid = `wamid.${run}-notice-${o.from}`;
    const system = { type: 'user_changed_user_id', previousUserId: ids[o.from], userId: ids[o.from + 1] };
    return createEvent({
      id: eventId('whatsapp', 'message', DEV_PHONE_NUMBER_ID, wamid),
      source: '/test',
      type: messageType,
      data: { ...base, messageId: wamid, sentAt: at(20 + o.from), type: 'system', system, raw: {} },
    });
  }
  const wamid = `wamid.${run}-${o.n}`;
  return createEvent({
    id: eventId('whatsapp', 'message', DEV_PHONE_NUMBER_ID, wamid),
    source: '/test',
    type: messageType,
    data: {
      ...base,
      ...(o.withPhone ? { from: phone } : {}),
      fromUserId: ids[o.id],
      username: `@p${run}`,
      messageId: wamid,
      sentAt: at(o.n),
      type: 'text',
      text: `m${o.n}`,
      raw: {},
    },
  });
}

const scenario = fc
  .record({
    chain: fc.integer({ min: 1, max: 3 }),
    messages: fc.array(fc.record({ id: fc.nat(), withPhone: fc.boolean() }), { minLength: 1, maxLength: 5 }),
    statuses: fc.integer({ min: 0, max: 2 }),
  })
  .chain(({ chain, messages, statuses }) => {
    const observations: Observation[] = [
      ...Array.from({ length: chain }, (_, from) => ({ kind: 'notice' as const, from })),
      ...messages.map((m, n) => ({ kind: 'message' as const, n, id: m.id % (chain + 1), withPhone: m.withPhone })),
      ...Array.from({ length: Math.min(statuses, messages.length) }, (_, n) => ({ kind: 'status' as const, n })),
    ];
    return fc.record({
      chain: fc.constant(chain),
      order: fc.shuffledSubarray(observations, { minLength: observations.length }),
      cuts: fc.array(fc.integer({ min: 1, max: 3 }), {
        minLength: observations.length,
        maxLength: observations.length,
      }),
      redeliver: fc.nat({ max: 3 }),
    });
  });

it('any interleaving of messages, statuses and id-change notices ends with one customer and one live conversation', async () => {
  const worker = p.worker;
  if (!worker) throw new Error('worker not running');
  const handle = createBatchHandler(worker.deps);
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(scenario, async ({ chain, order, cuts, redeliver }) => {
      const run = `r${runs++}`;
      const ids = Array.from({ length: chain + 1 }, (_, i) => `US.${run}.${i}`);
      const phone = `1631555${String(1000 + runs).slice(-4)}`;
      const events = order.map((o) => eventOf(run, ids, phone, o));
      for (let i = 0, c = 0; i < events.length; i += cuts[c++] ?? 1) {
        const batch = events.slice(i, i + (cuts[c] ?? 1));
        const outcomes = await handle(deliveriesOf(batch));
        expect(outcomes.map((o) => o.kind).filter((k) => k === 'retry' || k === 'dead')).toEqual([]);
        if (c % 4 === redeliver) await handle(deliveriesOf(batch));
      }
      const customers = await p.pool.query<{ id: string; whatsapp_user_id: string }>(
        `select distinct c.id, c.whatsapp_user_id from customer_whatsapp_user_ids u join customers c on c.id = u.customer_id
          where u.user_id = any($1) and c.merged_into is null`,
        [ids],
      );
      expect(customers.rows).toHaveLength(1);
      const customer = customers.rows[0] as { id: string; whatsapp_user_id: string };
      const known = await p.pool.query('select user_id from customer_whatsapp_user_ids where customer_id = $1', [
        customer.id,
      ]);
      expect(known.rows.map((r) => r.user_id).sort()).toEqual([...ids].sort());
      expect(customer.whatsapp_user_id).toBe(ids[chain]);
      const live = await p.pool.query("select id from conversations where customer_id = $1 and status <> 'closed'", [
        customer.id,
      ]);
      expect(live.rows).toHaveLength(1);
      const placed = await p.pool.query(
        `select distinct conversation_id from messages where provider_message_id like $1`,
        [`wamid.${run}-%`],
      );
      expect(placed.rows).toEqual([{ conversation_id: live.rows[0]?.id }]);
    }),
    { numRuns: 8 },
  );
}, 60_000);

import { randomUUID } from 'node:crypto';
import { type AssignmentWorker, createBatchEventHandler } from '@switchboard/assignment-worker';
import { encodeEvent } from '@switchboard/contracts';
import type { Pipeline } from '@switchboard/test-pipeline';
import type { ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AssignmentKit, startAssignment } from '../fixtures/assignment.ts';
import type { Outgoing } from '../fixtures/assignment-events.ts';

let p: Pipeline;
let k: AssignmentKit;
let w: AssignmentWorker;
beforeAll(async () => {
  ({ p, k, w } = await startAssignment());
});
afterAll(() => k.stop());

/** Deliveries as the consumer hands them over: the CloudEvents type in the AMQP `type` property. */
const deliveriesOf = (events: Outgoing[]) =>
  events.map(({ event }) => ({
    msg: {
      content: encodeEvent(event),
      fields: {},
      properties: { type: event.type, messageId: event.id, headers: {} },
    } as unknown as ConsumeMessage,
    ctx: { attempt: 1, logger: w.deps.logger },
  }));
const applyBatch = (events: Outgoing[]) => createBatchEventHandler(w.deps)(deliveriesOf(events));

/** The transaction that last wrote each chat (its row's xmin), by chat id. */
async function writers(ids: string[]): Promise<Record<string, string>> {
  const r = await p.pool.query<{ id: string; xmin: string }>(
    'select id, xmin::text as xmin from chats where id = any($1::uuid[])',
    [ids],
  );
  return Object.fromEntries(r.rows.map((x) => [x.id, x.xmin]));
}

const inInbox = async (events: Outgoing[]) =>
  (
    await p.pool.query(`select 1 from inbox where consumer = 'assignment-worker' and event_id = any($1::uuid[])`, [
      events.map((e) => e.event.id),
    ])
  ).rowCount;

it("a batch's chat events, over two tenants and twice one chat, apply in one transaction", async () => {
  const [t1, t2] = [await k.tenant('batch-one'), await k.tenant('batch-two')];
  const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
  const t0 = new Date(Date.now() - 60_000);
  const later = new Date(t0.getTime() + 1_000);
  const events = [
    k.events.customerMessage(t1.tenantId, a, t0),
    k.events.customerMessage(t2.tenantId, b, t0),
    k.events.customerMessage(t1.tenantId, c, t0),
    k.events.reply(t1.tenantId, a, 'op-1', later),
  ];
  expect((await applyBatch(events)).map((o) => o.kind)).toEqual(['done', 'done', 'done', 'done']);
  expect(await inInbox(events)).toBe(4);
  // The reply, after the customer's message in the same batch, took the chat out of the queue.
  expect(await k.chat(a)).toMatchObject({ state: 'waiting_real_user_reply', last_operator_id: 'op-1' });
  expect(await k.chat(b)).toMatchObject({ state: 'waiting_assignment', tenant_id: t2.tenantId });
  expect(await k.chat(c)).toMatchObject({ state: 'waiting_assignment', tenant_id: t1.tenantId });
  const xmins = new Set(Object.values(await writers([a, b, c])));
  expect(xmins.size).toBe(1);
  // Delivered again (a redelivery): the inbox skips each, nothing is written.
  expect((await applyBatch(events)).map((o) => o.kind)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
  expect(new Set(Object.values(await writers([a, b, c])))).toEqual(xmins);
});

it('a poison event fails alone: its neighbours are applied once, a duplicate in the batch skipped', async () => {
  const t = await k.tenant('batch-poison');
  const [d, poison, f] = [randomUUID(), randomUUID(), randomUUID()];
  const now = new Date();
  const first = k.events.customerMessage(t.tenantId, d, now);
  const bad = k.events.customerMessage(t.tenantId, poison, now);
  const events = [first, bad, first, k.events.customerMessage(t.tenantId, f, now)];
  // This test's own database: the poison chat's row cannot be written.
  await p.pool.query(`create function refuse_chat() returns trigger language plpgsql as $$
    begin if new.id = '${poison}' then raise exception 'poison for the test'; end if; return new; end $$`);
  await p.pool.query('create trigger refuse_chat before insert on chats for each row execute function refuse_chat()');
  try {
    const outcomes = await applyBatch(events);
    expect(outcomes.map((o) => o.kind)).toEqual(['done', 'retry', 'skipped', 'done']);
  } finally {
    await p.pool.query('drop trigger refuse_chat on chats; drop function refuse_chat()');
  }
  expect(await k.chat(d)).toMatchObject({ state: 'waiting_assignment', version: 1 });
  expect(await k.chat(f)).toMatchObject({ state: 'waiting_assignment', version: 1 });
  expect(await k.chat(poison)).toBeUndefined();
  expect(await inInbox([first, bad])).toBe(1);
  // Its retry, alone, once the cause is gone.
  expect((await applyBatch([bad])).map((o) => o.kind)).toEqual(['done']);
  expect(await k.chat(poison)).toMatchObject({ state: 'waiting_assignment' });
});

it('auto-assign in a batch: each chat pushed once, to the freest operator, its assignment announced once', async () => {
  const t = await k.tenant('batch-auto', { autoAssign: true });
  await k.operators(t.tenantId, [
    { id: 'X', capacity: 2 },
    { id: 'Y', capacity: 2 },
  ]);
  const chats = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const now = new Date();
  const events: Outgoing[] = chats.map((id) => k.events.customerMessage(t.tenantId, id, now));
  // A second message on the first chat, in the same batch: it is assigned already, nothing more.
  events.push(k.events.customerMessage(t.tenantId, chats[0] as string, new Date(now.getTime() + 1)));
  expect((await applyBatch(events)).every((o) => o.kind === 'done')).toBe(true);
  const held = await k.holders(t.tenantId);
  expect(Object.values(held).map((ids) => ids.length)).toEqual([2, 2]);
  expect(Object.values(held).flat().sort()).toEqual([...chats].sort());
  for (const id of chats) expect(await k.announced(id)).toEqual(['chat.assigned']);
});

it('a presence report beside chat events goes in a transaction of its own', async () => {
  const t = await k.tenant('batch-presence');
  await k.operators(t.tenantId, [{ id: 'P', status: 'away' }]);
  const chatId = randomUUID();
  const events: Outgoing[] = [
    k.events.customerMessage(t.tenantId, chatId, new Date()),
    k.events.presence(t.desk, { operatorId: 'P', status: 'online', at: new Date() }),
  ];
  expect((await applyBatch(events)).map((o) => o.kind)).toEqual(['done', 'done']);
  expect(await inInbox(events)).toBe(2);
  const op = await p.pool.query<{ status: string; xmin: string }>(
    'select status, xmin::text as xmin from operators where tenant_id = $1',
    [t.tenantId],
  );
  expect(op.rows).toEqual([{ status: 'online', xmin: expect.any(String) }]);
  expect((await writers([chatId]))[chatId]).not.toBe(op.rows[0]?.xmin);
});

it("a batch's chat changes kept in memory and one written at once (a release) leave every row as applied one by one", async () => {
  const t = await k.tenant('batch-mixed');
  await k.operators(t.tenantId, [{ id: 'M' }]);
  const [x, y] = [randomUUID(), randomUUID()];
  const t0 = new Date(Date.now() - 60_000);
  const at = (s: number) => new Date(t0.getTime() + s * 1_000);
  expect((await applyBatch([k.events.customerMessage(t.tenantId, x, t0)])).map((o) => o.kind)).toEqual(['done']);
  expect(await k.next('M', t.token)).toMatchObject({ status: 200, chatId: x });
  const before = (await p.pool.query<{ version: number }>('select version from chats where id = $1', [x])).rows[0];
  const events = [
    // x is assigned: the customer's messages change it in memory; M's later reply releases it, written at once.
    k.events.customerMessage(t.tenantId, x, at(1)),
    k.events.customerMessage(t.tenantId, x, at(2)),
    k.events.reply(t.tenantId, x, 'M', at(3)),
    // y is new: inserted once, with its second message.
    k.events.customerMessage(t.tenantId, y, at(1)),
    k.events.customerMessage(t.tenantId, y, at(2)),
  ];
  expect((await applyBatch(events)).map((o) => o.kind)).toEqual(['done', 'done', 'done', 'done', 'done']);
  expect(await k.chat(x)).toMatchObject({
    state: 'waiting_real_user_reply',
    assignee_id: null,
    last_customer_message_at: at(2),
    operator_replied_at: at(3),
    last_operator_id: 'M',
  });
  expect(await k.chat(y)).toMatchObject({
    state: 'waiting_assignment',
    waiting_since: at(1),
    last_customer_message_at: at(2),
  });
  // The messages' write, then the release's: two writes of x, one of y, in one transaction.
  const rows = await p.pool.query<{ id: string; version: number }>(
    'select id, version from chats where id = any($1::uuid[])',
    [[x, y]],
  );
  expect(Object.fromEntries(rows.rows.map((r) => [r.id, r.version]))).toEqual({
    [x]: (before?.version ?? 0) + 2,
    [y]: 1,
  });
  expect(new Set(Object.values(await writers([x, y]))).size).toBe(1);
  const ended = await p.pool.query('select end_reason from chat_assignments where chat_id = $1', [x]);
  expect(ended.rows).toEqual([{ end_reason: 'replied' }]);
  expect(await k.announced(x)).toEqual(['chat.assigned', 'chat.released']);
  const load = await p.pool.query('select active_chats from operators where tenant_id = $1', [t.tenantId]);
  expect(load.rows).toEqual([{ active_chats: 0 }]);
});

/**
 * The batch's statements as they reach Postgres: `w.deps` with a pool whose connections record
 * each query's text (the transaction's BEGIN, drizzle's statements, the named ones alike).
 */
function recordingDeps(): { deps: AssignmentWorker['deps']; sent: string[] } {
  const sent: string[] = [];
  const pool = w.deps.pool;
  const recording = new Proxy(pool, {
    get(target, key) {
      if (key !== 'connect') return Reflect.get(target, key, target);
      return async () => {
        const client = await target.connect();
        return new Proxy(client, {
          get(c, k) {
            const v = Reflect.get(c, k, c);
            if (k !== 'query' || typeof v !== 'function') return typeof v === 'function' ? v.bind(c) : v;
            return (...args: [unknown, ...unknown[]]) => {
              const q = args[0];
              sent.push(typeof q === 'string' ? q : String((q as { text?: string }).text ?? ''));
              return v.apply(c, args);
            };
          },
        });
      };
    },
  });
  return { deps: { ...w.deps, pool: recording }, sent };
}

it("a batch over chats that have rows reads its tenant's settings with their row locks: four round trips", async () => {
  const t = await k.tenant('batch-trips');
  const chats = [randomUUID(), randomUUID(), randomUUID()];
  const t0 = new Date(Date.now() - 60_000);
  const first = chats.map((id) => k.events.customerMessage(t.tenantId, id, t0));
  expect((await applyBatch(first)).map((o) => o.kind)).toEqual(['done', 'done', 'done']);
  const { deps, sent } = recordingDeps();
  const again = chats.map((id) => k.events.customerMessage(t.tenantId, id, new Date(t0.getTime() + 1_000)));
  const outcomes = await createBatchEventHandler(deps)(deliveriesOf(again));
  expect(outcomes.map((o) => o.kind)).toEqual(['done', 'done', 'done']);
  // BEGIN under the tenant with the inbox claim, the chats locked (their tenant's settings beside
  // them), the chats' one write, COMMIT: no statement of its own for the settings.
  expect(sent).toHaveLength(4);
  expect(sent[0]).toMatch(/^begin; select set_config\('app.tenant_id', .*; execute inbox_claim_/);
  expect(sent.filter((q) => /from assignment_settings/.test(q))).toHaveLength(1);
  expect(sent.find((q) => /from assignment_settings/.test(q))).toMatch(/for update/);
  for (const id of chats)
    expect(await k.chat(id)).toMatchObject({
      state: 'waiting_assignment',
      last_customer_message_at: new Date(t0.getTime() + 1_000),
    });
});

it('the settings read with the row locks decide: a waiting chat of an auto-assign tenant is pushed', async () => {
  const t = await k.tenant('batch-trips-auto', { autoAssign: true });
  const chatId = randomUUID();
  const t0 = new Date(Date.now() - 60_000);
  // No operator yet: the chat waits, and has a row for the next batch to lock.
  expect((await applyBatch([k.events.customerMessage(t.tenantId, chatId, t0)])).map((o) => o.kind)).toEqual(['done']);
  expect(await k.chat(chatId)).toMatchObject({ state: 'waiting_assignment' });
  await k.operators(t.tenantId, [{ id: 'A' }]);
  const { deps, sent } = recordingDeps();
  const next = k.events.customerMessage(t.tenantId, chatId, new Date(t0.getTime() + 1_000));
  expect((await createBatchEventHandler(deps)(deliveriesOf([next]))).map((o) => o.kind)).toEqual(['done']);
  expect(await k.holders(t.tenantId)).toEqual({ A: [chatId] });
  expect(sent.filter((q) => /from assignment_settings/.test(q))).toHaveLength(1);
  expect(await k.announced(chatId)).toEqual(['chat.assigned']);
});

import type { Pipeline } from '@switchboard/test-pipeline';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AssignmentKit, startAssignment } from '../fixtures/assignment.ts';

/**
 * The operator report (issue 18) against figures worked out by hand, on a scripted day driven
 * through the real paths on the assignment-worker's clock: next-chat, desk replies on the bus
 * (`message.sent`), a release and a transfer (POST /chats/:id/…), each at the time the script
 * gives. The tenant's zone is Europe/Berlin (UTC+1 in March), so days are Berlin days.
 *
 * 2026-03-02 (UTC; chats W* on WhatsApp, M1 by email; every operator online, capacity 3):
 *   08:00 W1 writes                     08:05 op-a next-chat → W1   (a1, waited 5 min)
 *   08:10 W2 writes, 08:20 M1 writes    08:30 op-b next-chat → W2   (a2, waited 20 min)
 *   08:40 op-a replies W1 (a1 ends: replied, held 35 min)
 *   08:50 op-a next-chat → M1 (a3, waited 30 min)
 *   09:00 W2 transferred op-b → op-c    (a2 ends: transfer, held 30 min; a4 op-c, no queue wait)
 *   09:20 op-c replies W2 (a4 ends: replied, held 20 min)
 *   09:30 op-a releases M1 (a3 ends: released, held 40 min; M1 requeued at its place, since 08:20)
 *   09:45 op-b next-chat → M1 (a5, waited 85 min: since 08:20)   10:00 op-b replies (a5: 15 min)
 *   10:10 W1 writes again               10:30 op-a next-chat → W1  (a7, waited 20 min; still open)
 *   22:30 W3 writes                     22:50 op-c next-chat → W3  (a6, waited 20 min; Berlin 23:50)
 *   23:30 op-c replies W3 (a6 ends: replied, held 40 min, on Berlin's 2026-03-03)
 */
let p: Pipeline;
let k: AssignmentKit;
const MIN = 60_000;
const at = (hhmm: string) => new Date(`2026-03-02T${hhmm}:00Z`);
const chats: Record<'W1' | 'W2' | 'W3' | 'M1', string> = { W1: '', W2: '', W3: '', M1: '' };

/** A conversation (for its channel) whose id the chat takes, as the sync-worker stores it. */
async function conversation(provider: 'whatsapp' | 'mailgun', openedAt: Date) {
  const { tenantId, channels } = p.tenant;
  const customer = await p.pool.query<{ id: string }>(
    `insert into customers (tenant_id, name) values ($1, 'Scripted') returning id`,
    [tenantId],
  );
  const conv = await p.pool.query<{ id: string }>(
    `insert into conversations (tenant_id, customer_id, channel_id, provider, status, opened_at, last_activity_at)
     values ($1, $2, $3, $4, 'open', $5, $5) returning id`,
    [tenantId, customer.rows[0]?.id, channels[provider], provider, openedAt],
  );
  return conv.rows[0]?.id as string;
}

const writes = async (chat: keyof typeof chats, hhmm: string) =>
  k.processed(await k.customerMessage(p.tenant.tenantId, chats[chat], at(hhmm)));
const replies = async (chat: keyof typeof chats, operatorId: string, hhmm: string) =>
  k.processed(await k.reply(p.tenant.tenantId, chats[chat], operatorId, at(hhmm)));
async function next(operatorId: string, hhmm: string, expected: keyof typeof chats) {
  k.clock.at = at(hhmm);
  expect(await k.next(operatorId)).toMatchObject({ status: 200, chatId: chats[expected] });
}
async function command(path: string, hhmm: string, body: unknown) {
  k.clock.at = at(hhmm);
  expect((await k.command(path, body)).status).toBe(200);
}

beforeAll(async () => {
  ({ p, k } = await startAssignment({ clock: true }));
  const { tenantId } = p.tenant;
  await p.pool.query(`update tenants set time_zone = 'Europe/Berlin' where id = $1`, [tenantId]);
  // No idle or stuck sweep may end an assignment the script did not end.
  await p.pool.query(
    `insert into assignment_settings (tenant_id, idle_minutes, stuck_hours) values ($1, 1440, 72)
     on conflict (tenant_id) do update set idle_minutes = 1440, stuck_hours = 72`,
    [tenantId],
  );
  await k.operators(tenantId, [{ id: 'op-a' }, { id: 'op-b' }, { id: 'op-c' }]);
  chats.W1 = await conversation('whatsapp', at('08:00'));
  chats.W2 = await conversation('whatsapp', at('08:10'));
  chats.M1 = await conversation('mailgun', at('08:20'));
  chats.W3 = await conversation('whatsapp', at('22:30'));

  await writes('W1', '08:00');
  await next('op-a', '08:05', 'W1');
  await writes('W2', '08:10');
  await writes('M1', '08:20');
  await next('op-b', '08:30', 'W2');
  await replies('W1', 'op-a', '08:40');
  await next('op-a', '08:50', 'M1');
  await command(`/chats/${chats.W2}/transfer`, '09:00', { operatorId: 'op-c' });
  await replies('W2', 'op-c', '09:20');
  await command(`/chats/${chats.M1}/release`, '09:30', {});
  await next('op-b', '09:45', 'M1');
  await replies('M1', 'op-b', '10:00');
  await writes('W1', '10:10');
  await next('op-a', '10:30', 'W1');
  await writes('W3', '22:30');
  await next('op-c', '22:50', 'W3');
  await replies('W3', 'op-c', '23:30');
});
afterAll(() => k.stop());

type Row = Record<string, unknown>;
const report = async (groupBy: string, from = '2026-03-02T00:00:00%2B01:00', to = '2026-03-04T00:00:00%2B01:00') => {
  const res = await p.api(`/analytics/operators?from=${from}&to=${to}&groupBy=${groupBy}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { groups: Row[]; totals: Row };
};
/** A group's figures in the report's field order, for compact tables. */
const figures = (g: Row) => [
  g.key,
  g.assigned,
  g.queued,
  g.avgWaitMs,
  g.p90WaitMs,
  g.handled,
  g.replied,
  g.avgHandleMs,
  g.p50HandleMs,
  g.p90HandleMs,
];

describe('chat_assignments on the scripted day', () => {
  it('records each assignment with its queue wait (none for the transfer), as chat.assigned announced it', async () => {
    const rows = await p.pool.query<{ id: string; operator_id: string; waited_ms: string | null; end_reason: string }>(
      `select id, operator_id, waited_ms, end_reason from chat_assignments where tenant_id = $1 order by id`,
      [p.tenant.tenantId],
    );
    expect(
      rows.rows.map((r) => [r.operator_id, r.waited_ms === null ? null : Number(r.waited_ms), r.end_reason]),
    ).toEqual([
      ['op-a', 5 * MIN, 'replied'],
      ['op-b', 20 * MIN, 'transfer'],
      ['op-a', 30 * MIN, 'released'],
      ['op-c', null, 'replied'],
      ['op-b', 85 * MIN, 'replied'],
      ['op-a', 20 * MIN, null],
      ['op-c', 20 * MIN, 'replied'],
    ]);
    const announced = await p.pool.query<{ data: { assignmentId: number; waitedMs: number } }>(
      `select envelope -> 'data' as data from outbox where tenant_id = $1 and routing_key = 'chat.assigned'`,
      [p.tenant.tenantId],
    );
    const waited = new Map(announced.rows.map((r) => [String(r.data.assignmentId), r.data.waitedMs]));
    for (const r of rows.rows.filter((x) => x.waited_ms !== null))
      expect(waited.get(r.id), `assignment ${r.id}`).toBe(Number(r.waited_ms));
  });

  it('Prometheus: the queue waits in chat_wait_seconds (not the transfer), the handle times in chat_handle_seconds', async () => {
    await vi.waitFor(
      async () => {
        expect(await k.metric('chat_wait_seconds_count')).toBe(6);
        expect(await k.metric('chat_handle_seconds_count')).toBe(6);
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(await k.metric('chat_wait_seconds_sum')).toBe((5 + 20 + 30 + 85 + 20 + 20) * 60);
    expect(await k.metric('chat_handle_seconds_sum')).toBe((35 + 30 + 40 + 20 + 15 + 40) * 60);
    expect(await k.metric('chat_handle_seconds_count', { reason: 'replied' })).toBe(4);
    expect(await k.metric('chat_handle_seconds_count', { reason: 'transfer' })).toBe(1);
  });
});

describe('GET /analytics/operators on the scripted day', () => {
  it('totals: assignments begun with their queue waits, assignments ended with their handle times', async () => {
    const r = await report('day');
    expect(r.totals).toEqual({
      key: 'total',
      assigned: 7,
      queued: 6, // not a4, the transfer
      avgWaitMs: 30 * MIN, // (5 + 20 + 30 + 85 + 20 + 20) / 6
      p90WaitMs: 57.5 * MIN, // sorted 5 20 20 20 30 85: between the 5th and 6th, halfway
      handled: 6, // a7 is still open
      replied: 4, // a1, a4, a5, a6
      avgHandleMs: 30 * MIN, // (35 + 30 + 40 + 20 + 15 + 40) / 6
      p50HandleMs: 32.5 * MIN, // sorted 15 20 30 35 40 40
      p90HandleMs: 40 * MIN,
    });
  });

  it('by day in the tenant zone: an assignment counts on the day it began, and on the day it ended', async () => {
    const r = await report('day');
    expect(r.groups.map(figures)).toEqual([
      // Every assignment began on Berlin's 2 March (a6 at 23:50); all but a6 (and the open a7) ended on it.
      ['2026-03-02', 7, 6, 30 * MIN, 57.5 * MIN, 5, 3, 28 * MIN, 30 * MIN, 38 * MIN],
      // a6 ended at 00:30 Berlin time.
      ['2026-03-03', 0, 0, null, null, 1, 1, 40 * MIN, 40 * MIN, 40 * MIN],
    ]);
    // In UTC days a6 ends on 2 March too: the zone moves it.
    const utc = await report('day', '2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z');
    expect(utc.totals).toMatchObject({ assigned: 7, handled: 6 });
  });

  it('by operator', async () => {
    const r = await report('operator');
    expect(r.groups.map(figures)).toEqual([
      // a1, a3, a7: waits 5 30 20; held 35 and 40
      ['op-a', 3, 3, (55 * MIN) / 3, 28 * MIN, 2, 1, 37.5 * MIN, 37.5 * MIN, 39.5 * MIN],
      // a2, a5: waits 20 85; held 30 (transferred) and 15
      ['op-b', 2, 2, 52.5 * MIN, 78.5 * MIN, 2, 1, 22.5 * MIN, 22.5 * MIN, 28.5 * MIN],
      // a4 (the transfer: no wait), a6: wait 20; held 20 and 40
      ['op-c', 2, 1, 20 * MIN, 20 * MIN, 2, 2, 30 * MIN, 30 * MIN, 38 * MIN],
    ]);
  });

  it("by channel (the conversation's provider)", async () => {
    const r = await report('channel');
    expect(r.groups.map(figures)).toEqual([
      // M1: a3 (wait 30, held 40), a5 (wait 85, held 15)
      ['mailgun', 2, 2, 57.5 * MIN, 79.5 * MIN, 2, 1, 27.5 * MIN, 27.5 * MIN, 37.5 * MIN],
      // a1, a2, a4, a6, a7: waits 5 20 20 20; held 35 30 20 40
      ['whatsapp', 5, 4, 16.25 * MIN, 20 * MIN, 4, 3, 31.25 * MIN, 32.5 * MIN, 38.5 * MIN],
    ]);
  });

  it('a range with nothing in it: zero counts, null figures', async () => {
    const r = await report('operator', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z');
    expect(r.groups).toEqual([]);
    expect(figures(r.totals)).toEqual(['total', 0, 0, null, null, 0, 0, null, null, null]);
  });

  it('refuses a bad range or grouping with 400', async () => {
    for (const q of [
      'from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z',
      'from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      'from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&groupBy=agent',
    ])
      expect((await p.api(`/analytics/operators?${q}`)).status).toBe(400);
  });
});

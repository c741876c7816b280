import { randomUUID } from 'node:crypto';
import { type AssignmentWorker, releaseIdle } from '@switchboard/assignment-worker';
import type { Pipeline } from '@switchboard/test-pipeline';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AssignmentKit, startAssignment } from '../fixtures/assignment.ts';

let p: Pipeline;
let k: AssignmentKit;
let w: AssignmentWorker;
beforeAll(async () => {
  ({ p, k, w } = await startAssignment());
});
afterAll(() => k.stop());

describe('auto-assign', () => {
  it('pushes to the most free capacity first, then the least recently assigned', async () => {
    const t = await k.tenant('auto-order', { autoAssign: true });
    const ago = (min: number) => new Date(Date.now() - min * 60_000);
    await k.operators(t.tenantId, [
      { id: 'X', capacity: 5, lastAssignedAt: ago(10) },
      { id: 'Y', capacity: 3 },
      { id: 'Z', capacity: 5, lastAssignedAt: ago(20) },
    ]);
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      const chatId = await k.opened(t.tenantId);
      order.push((await k.chat(chatId))?.assignee_id ?? 'none');
    }
    // Free 5/3/5: Z (longer since its last chat), X, then Z and X again (4 each > Y's 3), then all
    // three at 3 free: Y, never assigned, first.
    expect(order).toEqual(['Z', 'X', 'Z', 'X', 'Y', 'Z']);
    expect(await k.metric('chat_assignments_total', { mode: 'auto', outcome: 'assigned' })).toBeGreaterThanOrEqual(6);
  });

  it('many chats becoming waiting at once spread evenly over the operators', async () => {
    const t = await k.tenant('auto-spread', { autoAssign: true });
    const ops = Array.from({ length: 10 }, (_, i) => ({ id: `op-${i}`, capacity: 10 }));
    await k.operators(t.tenantId, ops);
    const events = await Promise.all(
      Array.from({ length: 40 }, () => k.customerMessage(t.tenantId, randomUUID(), new Date())),
    );
    await k.processed(...events);
    const held = await k.holders(t.tenantId);
    const counts = ops.map((o) => held[o.id]?.length ?? 0);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(40);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    const load = await p.pool.query<{ id: string; active_chats: number }>(
      'select id, active_chats from operators where tenant_id = $1 order by id',
      [t.tenantId],
    );
    expect(load.rows.map((r) => r.active_chats)).toEqual(ops.map((o) => held[o.id]?.length ?? 0));
  });

  it('pushes whenever capacity frees: a reply, a release (not back to its operator), a completion, an operator coming online', async () => {
    const t = await k.tenant('auto-push', { autoAssign: true });
    await k.operators(t.tenantId, [
      { id: 'A', capacity: 1 },
      { id: 'B', capacity: 1 },
    ]);
    const c1 = await k.opened(t.tenantId);
    const c2 = await k.opened(t.tenantId);
    const c3 = await k.opened(t.tenantId);
    expect(await k.holders(t.tenantId)).toEqual({ A: [c1], B: [c2] });
    expect((await k.chat(c3))?.state).toBe('waiting_assignment');

    // A answers c1: its freed place takes the oldest waiting chat.
    await k.processed(await k.reply(t.tenantId, c1, 'A', new Date()));
    expect(await k.holders(t.tenantId)).toEqual({ A: [c3], B: [c2] });

    // B hands c2 back: nobody else is free, so c2 waits, and B takes the next chat, not c2 again.
    const c4 = await k.opened(t.tenantId);
    expect(await k.command(`/chats/${c2}/release`, { reason: 'transfer' }, t.token)).toMatchObject({ status: 200 });
    expect(await k.holders(t.tenantId)).toEqual({ A: [c3], B: [c4] });

    // A completes c3: it takes c2, waiting the longest.
    expect(await k.command(`/chats/${c3}/complete`, {}, t.token)).toMatchObject({ status: 200 });
    expect(await k.holders(t.tenantId)).toEqual({ A: [c2], B: [c4] });

    // C comes online: it is filled from the queue at once.
    const c5 = await k.opened(t.tenantId);
    await k.processed(await k.presence(t.desk, { operatorId: 'C', status: 'online', capacity: 2, at: new Date() }));
    expect(await k.holders(t.tenantId)).toEqual({ A: [c2], B: [c4], C: [c5] });
    const modes = await p.pool.query(`select distinct mode from chat_assignments where tenant_id = $1`, [t.tenantId]);
    expect(modes.rows).toEqual([{ mode: 'auto' }]);
    // Each push recorded the queue wait chat.assigned announced (c2, released for transfer and
    // left waiting, was taken from the queue later: a wait like any other).
    const waits = await p.pool.query<{ waited_ms: string | null; announced: string }>(
      `select a.waited_ms, o.envelope -> 'data' ->> 'waitedMs' as announced
         from chat_assignments a
         join outbox o on o.tenant_id = a.tenant_id and o.routing_key = 'chat.assigned'
                      and (o.envelope -> 'data' ->> 'assignmentId')::bigint = a.id
        where a.tenant_id = $1`,
      [t.tenantId],
    );
    expect(waits.rows).toHaveLength(6);
    for (const r of waits.rows) expect(r.waited_ms).toBe(r.announced);
  });

  it('a release for transfer that auto-assign hands straight to another operator is a hand-over: no queue wait', async () => {
    const t = await k.tenant('auto-handover', { autoAssign: true });
    await k.operators(t.tenantId, [{ id: 'A', capacity: 1 }]);
    const chatId = await k.opened(t.tenantId);
    await k.operators(t.tenantId, [{ id: 'B', capacity: 1 }]);
    expect(await k.command(`/chats/${chatId}/release`, { reason: 'transfer' }, t.token)).toMatchObject({ status: 200 });
    expect(await k.holders(t.tenantId)).toEqual({ B: [chatId] });
    const rows = await p.pool.query<{ operator_id: string; queued: boolean; end_reason: string | null }>(
      `select operator_id, waited_ms is not null as queued, end_reason from chat_assignments where chat_id = $1 order by id`,
      [chatId],
    );
    expect(rows.rows).toEqual([
      { operator_id: 'A', queued: true, end_reason: 'transfer' },
      { operator_id: 'B', queued: false, end_reason: null },
    ]);
  });

  it('both ways of pushing schedule the idle check after the tenant’s idle_minutes', async () => {
    const t = await k.tenant('auto-idle-delay', { autoAssign: true, idleMinutes: 7 });
    await k.operators(t.tenantId, [{ id: 'A', capacity: 1 }]);
    const pushed = await k.opened(t.tenantId);
    const filled = await k.opened(t.tenantId);
    // A answers the chat it was pushed: its freed place is filled from the queue.
    await k.processed(await k.reply(t.tenantId, pushed, 'A', new Date()));
    expect(await k.holders(t.tenantId)).toEqual({ A: [filled] });
    const assignments = await p.pool.query<{ id: string }>(
      'select id from chat_assignments where tenant_id = $1 order by id',
      [t.tenantId],
    );
    expect(assignments.rows).toHaveLength(2);
    for (const { id } of assignments.rows) {
      await vi.waitFor(async () => expect((await w.timers.queue.getJob(`idle-${id}`))?.opts.delay).toBe(7 * 60_000), {
        timeout: 10_000,
        interval: 50,
      });
    }
  });

  it('never hands an idle-released chat straight back to the operator that idled on it', async () => {
    const t = await k.tenant('auto-idle', { autoAssign: true, idleMinutes: 10 });
    await k.operators(t.tenantId, [
      { id: 'A', capacity: 1 },
      { id: 'B', capacity: 1 },
    ]);
    const c1 = await k.opened(t.tenantId);
    const c2 = await k.opened(t.tenantId);
    expect(await k.holders(t.tenantId)).toEqual({ A: [c1], B: [c2] });
    const idleChecks = () => k.metric('chat_releases_total', { reason: 'idle' });
    const before = await idleChecks();
    // A idles on c1 (its idle check, eleven minutes on): c1 is requeued but not pushed back to A,
    // the only operator with room; A pulling does not get it either.
    const row = await p.pool.query<{ assignment_id: number }>('select assignment_id from chats where id = $1', [c1]);
    const later = { ...w.deps, now: () => new Date(Date.now() + 11 * 60_000) };
    expect(
      await releaseIdle(later, { tenantId: t.tenantId, chatId: c1, assignmentId: Number(row.rows[0]?.assignment_id) }),
    ).toBe(1);
    expect(await idleChecks()).toBe(before + 1);
    expect(await k.chat(c1)).toMatchObject({ state: 'waiting_assignment', idle_operator_id: 'A' });
    expect(await k.holders(t.tenantId)).toEqual({ B: [c2] });
    const barred = await k.metric('chat_same_operator_excluded_total', { rule: 'idle' });
    expect(await k.next('A', t.token)).toMatchObject({ status: 204, reason: 'none_waiting' });
    expect(await k.metric('chat_same_operator_excluded_total', { rule: 'idle' })).toBe(barred + 1);
    // B frees its place: c1 goes to B.
    expect(await k.command(`/chats/${c2}/complete`, {}, t.token)).toMatchObject({ status: 200 });
    expect(await k.holders(t.tenantId)).toEqual({ B: [c1] });
    expect(await k.chat(c1)).toMatchObject({ idle_operator_id: null });
  });

  it('honours the chat’s queue: only an operator with the skill gets it', async () => {
    const t = await k.tenant('auto-queue', { autoAssign: true });
    await k.operators(t.tenantId, [
      { id: 'A', status: 'away' },
      { id: 'B', status: 'away', skills: ['vip'] },
    ]);
    const x = await k.opened(t.tenantId);
    expect(await k.command(`/chats/${x}/queue`, { queue: 'vip' }, t.token)).toMatchObject({ status: 200 });
    await k.processed(await k.presence(t.desk, { operatorId: 'A', status: 'online', at: new Date() }));
    expect((await k.chat(x))?.state).toBe('waiting_assignment');
    await k.processed(await k.presence(t.desk, { operatorId: 'B', status: 'online', at: new Date() }));
    expect(await k.holders(t.tenantId)).toEqual({ B: [x] });
  });
});

describe('operator presence', () => {
  it('going offline or away requeues the operator’s chats (reason operator_offline) and auto-assign passes them on', async () => {
    const t = await k.tenant('presence', { autoAssign: true });
    await k.operators(t.tenantId, [
      { id: 'A', capacity: 2 },
      { id: 'B', capacity: 2, status: 'away' },
      { id: 'C', capacity: 1, status: 'away' },
    ]);
    const c1 = await k.opened(t.tenantId);
    const c2 = await k.opened(t.tenantId);
    expect(await k.holders(t.tenantId)).toEqual({ A: [c1, c2].sort() });
    await k.processed(await k.presence(t.desk, { operatorId: 'B', status: 'online', at: new Date() }));
    await k.processed(await k.presence(t.desk, { operatorId: 'A', status: 'offline', at: new Date() }));
    expect(await k.holders(t.tenantId)).toEqual({ B: [c1, c2].sort() });
    const ended = await p.pool.query(
      `select chat_id, operator_id, end_reason from chat_assignments where tenant_id = $1 and operator_id = 'A' order by chat_id`,
      [t.tenantId],
    );
    expect(ended.rows).toEqual(
      [c1, c2].sort().map((chatId) => ({ chat_id: chatId, operator_id: 'A', end_reason: 'operator_offline' })),
    );
    await vi.waitFor(() =>
      expect(
        p.events
          .ofKey('chat.released')
          .map((e) => e.event.data as { chatId: string; reason: string })
          .filter((d) => d.chatId === c1 || d.chatId === c2)
          .map((d) => d.reason),
      ).toEqual(['operator_offline', 'operator_offline']),
    );
    // Away works the same; with nobody free the chat waits.
    await k.processed(await k.presence(t.desk, { operatorId: 'B', status: 'away', at: new Date() }));
    expect(await k.holders(t.tenantId)).toEqual({});
    expect(await k.announced(c1)).toEqual(['chat.assigned', 'chat.released', 'chat.assigned', 'chat.released']);
  });

  it('coming online fills in the report’s transaction: if it fails at commit nothing is claimed, its redelivery fills', async () => {
    const t = await k.tenant('fill-atomic', { autoAssign: true });
    await k.operators(t.tenantId, [{ id: 'A', status: 'away' }]);
    const chatId = await k.opened(t.tenantId);
    const online = k.events.presence(t.desk, { operatorId: 'A', status: 'online', at: new Date() });
    // This test's own database: an assignment refused at commit, after every claim statement ran.
    await p.pool.query(`create function refuse_assignment() returns trigger language plpgsql as $$
      begin raise exception 'refused for the test'; end $$`);
    await p.pool.query(`create constraint trigger refuse_assignment after insert on chat_assignments
      initially deferred for each row execute function refuse_assignment()`);
    try {
      // The kit sends COMMIT itself (shared/db/src/transaction.ts): the commit's own error, unwrapped.
      await expect(k.deliver(online)).rejects.toMatchObject({ message: 'refused for the test' });
    } finally {
      await p.pool.query('drop trigger refuse_assignment on chat_assignments; drop function refuse_assignment()');
    }
    expect(await k.chat(chatId)).toMatchObject({ state: 'waiting_assignment', assignee_id: null });
    const op = await p.pool.query('select status, active_chats from operators where tenant_id = $1', [t.tenantId]);
    expect(op.rows).toEqual([{ status: 'away', active_chats: 0 }]);
    expect(await k.announced(chatId)).toEqual([]);
    expect(await k.deliver(online)).toMatchObject({ kind: 'done' });
    expect(await k.holders(t.tenantId)).toEqual({ A: [chatId] });
  });

  it('a stale report (older than the stored one) changes nothing: the operator keeps its chats', async () => {
    const t = await k.tenant('stale');
    const now = Date.now();
    await k.processed(await k.presence(t.desk, { operatorId: 'A', status: 'online', at: new Date(now) }));
    const chatId = await k.opened(t.tenantId);
    expect(await k.next('A', t.token)).toMatchObject({ chatId });
    await k.processed(await k.presence(t.desk, { operatorId: 'A', status: 'offline', at: new Date(now - 60_000) }));
    expect(await k.chat(chatId)).toMatchObject({ state: 'assigned', assignee_id: 'A' });
    const op = await p.pool.query('select status from operators where tenant_id = $1', [t.tenantId]);
    expect(op.rows).toEqual([{ status: 'online' }]);
    expect(await k.announced(chatId)).toEqual(['chat.assigned']);
  });

  it('offline, replies and releases at once: no deadlock, and the counts add up', async () => {
    for (let round = 0; round < 4; round++) {
      const t = await k.tenant(`deadlock-${round}`);
      await k.operators(t.tenantId, [{ id: 'A', capacity: 12 }]);
      const chats: string[] = [];
      for (let i = 0; i < 12; i++) {
        chats.push(await k.opened(t.tenantId, new Date(Date.now() - (12 - i) * 1000)));
        expect((await k.next('A', t.token)).status).toBe(200);
      }
      const offline = k.events.presence(t.desk, { operatorId: 'A', status: 'offline', at: new Date() });
      const reply = (chatId: string) => k.events.reply(t.tenantId, chatId, 'A', new Date());
      const results = await Promise.allSettled([
        ...chats.slice(0, 6).map((c) => k.deliver(reply(c))),
        k.deliver(offline),
        ...chats
          .slice(6)
          .map((c) =>
            p.assignmentApi(`/chats/${c}/release`, { method: 'POST', body: {}, token: t.token }).then((r) => r.status),
          ),
      ]);
      const failed = results.filter((r) => r.status === 'rejected');
      expect(failed).toEqual([]);
      for (const r of results.slice(7)) expect([200, 409]).toContain((r as PromiseFulfilledResult<number>).value);
      const states = await p.pool.query<{ state: string; n: number }>(
        'select state, count(*)::int as n from chats where tenant_id = $1 group by state order by state',
        [t.tenantId],
      );
      expect(states.rows).toEqual([
        { state: 'waiting_assignment', n: 6 },
        { state: 'waiting_real_user_reply', n: 6 },
      ]);
      const op = await p.pool.query('select status, active_chats from operators where tenant_id = $1', [t.tenantId]);
      expect(op.rows).toEqual([{ status: 'offline', active_chats: 0 }]);
      const open = await p.pool.query(
        'select count(*)::int as n from chat_assignments where tenant_id = $1 and ended_at is null',
        [t.tenantId],
      );
      expect(open.rows).toEqual([{ n: 0 }]);
    }
  });
});

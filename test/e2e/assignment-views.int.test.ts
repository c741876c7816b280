import { type AssignmentWorker, handleStuck, releaseIdle } from '@switchboard/assignment-worker';
import type { Pipeline } from '@switchboard/test-pipeline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AssignmentKit, startAssignment } from '../fixtures/assignment.ts';

const HOUR = 3_600_000;

let p: Pipeline;
let k: AssignmentKit;
let w: AssignmentWorker;
beforeAll(async () => {
  ({ p, k, w } = await startAssignment({ clock: true }));
});
afterEach(() => k.clock.reset());
afterAll(() => k.stop());

describe('views, on a frozen clock', () => {
  it('GET /chats/stuck, /queue/status and /chats/summary give exact answers', async () => {
    const t = await k.tenant('views', { stuckHours: 24, stuckAction: 'flag' });
    await k.operators(t.tenantId, [
      { id: 'A', capacity: 3 },
      { id: 'B', capacity: 2 },
      { id: 'C', capacity: 5, status: 'offline' },
    ]);
    const t0 = new Date(Math.floor(Date.now() / 1000) * 1000 - 10 * 60_000);
    const assigned = await k.opened(t.tenantId, t0);
    await k.opened(t.tenantId, new Date(t0.getTime() + 60_000));
    await k.opened(t.tenantId, new Date(t0.getTime() + 120_000));
    const replied = await k.opened(t.tenantId, new Date(t0.getTime() + 180_000));
    const done = await k.opened(t.tenantId, new Date(t0.getTime() + 240_000));
    k.clock.at = new Date(t0.getTime() + 5 * 60_000);
    expect(await k.next('A', t.token)).toMatchObject({ chatId: assigned });
    await k.processed(await k.reply(t.tenantId, replied, 'B', new Date(t0.getTime() + 360_000)));
    expect(await k.command(`/chats/${done}/complete`, {}, t.token)).toMatchObject({ status: 200 });

    // Ten minutes after t0: two wait, the oldest since t0 + 1 min (540 s).
    k.clock.at = new Date(t0.getTime() + 10 * 60_000);
    expect(await k.get('/queue/status', t.token)).toEqual({
      waiting: 2,
      oldestWaitSeconds: 540,
      operatorsOnline: 2,
      operators: [
        { id: 'A', load: 1, capacity: 3 },
        { id: 'B', load: 0, capacity: 2 },
      ],
    });
    expect(await k.get('/chats/summary', t.token)).toEqual({
      waiting_assignment: 2,
      assigned: 1,
      waiting_real_user_reply: 1,
      completed: 1,
    });
    expect(await k.get('/chats/stuck?hours=1', t.token)).toEqual({ hours: 1, chats: [] });

    // Three hours on: the assignment and the wait on the customer are both over an hour old.
    k.clock.at = new Date(t0.getTime() + 3 * HOUR);
    expect(await k.get('/chats/stuck?hours=1', t.token)).toEqual({
      hours: 1,
      chats: [
        {
          chatId: assigned,
          state: 'assigned',
          operatorId: 'A',
          since: new Date(t0.getTime() + 5 * 60_000).toISOString(),
          flaggedAt: null,
        },
        {
          chatId: replied,
          state: 'waiting_real_user_reply',
          operatorId: 'B',
          since: new Date(t0.getTime() + 360_000).toISOString(),
          flaggedAt: null,
        },
      ],
    });
    expect((await k.get<{ chats: unknown[] }>('/chats/stuck?hours=4', t.token)).chats).toEqual([]);
    // A day on the sweep flags the wait on the customer; the view shows it whatever the hours.
    k.clock.at = new Date(t0.getTime() + 25 * HOUR);
    await handleStuck(w.deps);
    const flagged = await k.get<{ chats: Array<{ chatId: string; flaggedAt: string | null }> }>(
      '/chats/stuck?hours=48',
      t.token,
    );
    expect(flagged.chats).toEqual([expect.objectContaining({ chatId: replied, flaggedAt: k.clock.at.toISOString() })]);
    expect(await p.assignmentApi('/chats/stuck?hours=0', { token: t.token })).toMatchObject({ status: 400 });
  });
});

describe('metrics', () => {
  it('queue depth, wait time, assignments by outcome, idle releases and exclusions move', async () => {
    const t = await k.tenant('metrics', { idleMinutes: 10 });
    await k.operators(t.tenantId, [
      { id: 'A', capacity: 1 },
      { id: 'B', capacity: 1, status: 'away' },
    ]);
    const scrape = async () => {
      const res = await fetch(`${p.assignmentUrl}/metrics`);
      const text = await res.text();
      const waiting = /^chats_waiting\{[^}]*\} (\d+)$/m.exec(text)?.[1];
      const db = await p.pool.query<{ n: number }>(
        `select count(*)::int as n from chats where state = 'waiting_assignment'`,
      );
      return { gauge: Number(waiting), db: db.rows[0]?.n };
    };
    const depth0 = await scrape();
    expect(depth0.gauge).toBe(depth0.db);
    const m = (name: string, labels: Record<string, string> = {}) => k.metric(name, labels);
    const counts = async () => ({
      waits: await m('chat_wait_seconds_count', { mode: 'pull' }),
      assigned: await m('chat_assignments_total', { mode: 'pull', outcome: 'assigned' }),
      none: await m('chat_assignments_total', { mode: 'pull', outcome: 'none_waiting' }),
      full: await m('chat_assignments_total', { mode: 'pull', outcome: 'at_capacity' }),
      away: await m('chat_assignments_total', { mode: 'pull', outcome: 'not_online' }),
      unknown: await m('chat_assignments_total', { mode: 'pull', outcome: 'unknown_operator' }),
      idle: await m('chat_releases_total', { reason: 'idle' }),
      barred: await m('chat_same_operator_excluded_total', { rule: 'idle' }),
    });
    const before = await counts();
    expect(await k.next('A', t.token)).toMatchObject({ status: 204, reason: 'none_waiting' });
    const chatId = await k.opened(t.tenantId, new Date(Date.now() - 30_000));
    expect((await scrape()).gauge).toBe(depth0.gauge + 1);
    expect(await k.next('A', t.token)).toMatchObject({ chatId });
    expect(await k.next('A', t.token)).toMatchObject({ status: 204, reason: 'at_capacity' });
    expect(await k.next('B', t.token)).toMatchObject({ status: 409 });
    expect(await k.next('nobody', t.token)).toMatchObject({ status: 404 });
    const row = await p.pool.query<{ assignment_id: number }>('select assignment_id from chats where id = $1', [
      chatId,
    ]);
    k.clock.offsetMs = 11 * 60_000;
    expect(
      await releaseIdle(w.deps, { tenantId: t.tenantId, chatId, assignmentId: Number(row.rows[0]?.assignment_id) }),
    ).toBe(1);
    expect(await k.next('A', t.token)).toMatchObject({ status: 204, reason: 'none_waiting' });
    expect(await counts()).toEqual({
      waits: before.waits + 1,
      assigned: before.assigned + 1,
      none: before.none + 2,
      full: before.full + 1,
      away: before.away + 1,
      unknown: before.unknown + 1,
      idle: before.idle + 1,
      barred: before.barred + 1,
    });
  });
});

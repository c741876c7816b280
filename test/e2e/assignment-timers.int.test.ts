import { randomUUID } from 'node:crypto';
import {
  type AssignmentWorker,
  handleStuck,
  loadConfig as loadAssignmentConfig,
  releaseIdle,
  startAssignmentWorker,
} from '@switchboard/assignment-worker';
import { type Pipeline, startPipeline } from '@switchboard/testing';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AssignmentKit, assignmentKit } from '../fixtures/assignment.ts';

/** The assignment-worker's clock: real time moved by `offsetMs`, or frozen `at`. Tests move it instead of sleeping. */
const clock = {
  offsetMs: 0,
  at: null as Date | null,
  now: () => clock.at ?? new Date(Date.now() + clock.offsetMs),
};
const HOUR = 3_600_000;

let p: Pipeline;
let k: AssignmentKit;
let w: AssignmentWorker;
beforeAll(async () => {
  p = await startPipeline({ assignment: { now: () => clock.now() } });
  k = await assignmentKit(p);
  w = p.assignment as AssignmentWorker;
});
afterEach(() => {
  clock.offsetMs = 0;
  clock.at = null;
});
afterAll(async () => {
  await k.close();
  await p.stop();
});

/** A chat of `tenantId` the customer opened at `at` (the store's time). */
async function opened(tenantId: string, at = new Date()) {
  const chatId = randomUUID();
  await k.processed(await k.customerMessage(tenantId, chatId, at));
  return chatId;
}

describe('idle assignments', () => {
  it('an assignment with no reply for idle_minutes is released and requeued at its place', async () => {
    const t = await k.tenant('idle', { idleMinutes: 10 });
    await k.operators(t.tenantId, [{ id: 'A' }]);
    const since = new Date(Date.now() - 60_000);
    const chatId = await opened(t.tenantId, since);
    expect(await k.next('A', t.token)).toMatchObject({ chatId });
    const idle = await k.metric('chat_releases_total', { reason: 'idle' });

    clock.offsetMs = 9 * 60_000;
    await releaseIdle(w.deps);
    expect(await k.chat(chatId)).toMatchObject({ state: 'assigned', assignee_id: 'A' });

    clock.offsetMs = 11 * 60_000;
    expect(await releaseIdle(w.deps)).toBeGreaterThanOrEqual(1);
    expect(await k.chat(chatId)).toMatchObject({
      state: 'waiting_assignment',
      assignee_id: null,
      waiting_since: since,
      idle_operator_id: 'A',
    });
    const ended = await p.pool.query(
      `select operator_id, end_reason, round(extract(epoch from ended_at - assigned_at) / 60) as minutes
         from chat_assignments where chat_id = $1`,
      [chatId],
    );
    expect(ended.rows).toEqual([{ operator_id: 'A', end_reason: 'idle', minutes: '11' }]);
    expect(await k.metric('chat_releases_total', { reason: 'idle' })).toBe(idle + 1);
    expect(await k.announced(chatId)).toEqual(['chat.assigned', 'chat.released']);
  });
});

describe('stuck chats', () => {
  /** A tenant whose chats count as stuck after 2 hours, with one chat answered by A now. */
  async function answered(action: 'flag' | 'complete') {
    const t = await k.tenant(`stuck-${action}`, { stuckHours: 2, stuckAction: action });
    const chatId = await opened(t.tenantId, new Date(Date.now() - 60_000));
    await k.processed(await k.reply(t.tenantId, chatId, 'A', new Date()));
    expect(await k.chat(chatId)).toMatchObject({ state: 'waiting_real_user_reply' });
    return { ...t, chatId };
  }

  it('flags or completes per the tenant’s setting once stuck_hours passed, once, counting only real changes', async () => {
    const flag = await answered('flag');
    const complete = await answered('complete');
    const count = () =>
      Promise.all([
        k.metric('chats_stuck_total', { action: 'flag' }),
        k.metric('chats_stuck_total', { action: 'complete' }),
      ]);
    const before = await count();
    clock.offsetMs = 1 * HOUR;
    await handleStuck(w.deps);
    expect(await k.chat(flag.chatId)).toMatchObject({ state: 'waiting_real_user_reply', flagged_at: null });
    expect(await k.chat(complete.chatId)).toMatchObject({ state: 'waiting_real_user_reply' });

    clock.at = new Date(Date.now() + 3 * HOUR);
    await handleStuck(w.deps);
    expect(await k.chat(flag.chatId)).toMatchObject({ state: 'waiting_real_user_reply', flagged_at: clock.at });
    expect(await k.chat(complete.chatId)).toMatchObject({ state: 'completed', closed: false });
    expect(await count()).toEqual([before[0] + 1, before[1] + 1]);
    await vi.waitFor(() =>
      expect(
        p.events
          .ofKey('chat.completed')
          .map((e) => e.event.data)
          .filter((d) => (d as { chatId: string }).chatId === complete.chatId),
      ).toEqual([expect.objectContaining({ reason: 'stuck' })]),
    );
    // Again: nothing left to do, nothing counted.
    await handleStuck(w.deps);
    expect(await count()).toEqual([before[0] + 1, before[1] + 1]);
    expect(await k.announced(flag.chatId)).toEqual([]);
    expect(await k.announced(complete.chatId)).toEqual(['chat.completed']);

    // The customer writes: the flag clears, the stuck-completed chat reopens.
    clock.at = null;
    await k.processed(
      await k.customerMessage(flag.tenantId, flag.chatId, new Date()),
      await k.customerMessage(complete.tenantId, complete.chatId, new Date()),
    );
    expect(await k.chat(flag.chatId)).toMatchObject({ state: 'waiting_assignment', flagged_at: null });
    expect(await k.chat(complete.chatId)).toMatchObject({ state: 'waiting_assignment', completed_at: null });
  });

  it('a tenant that switches from flag to complete completes its flagged chats', async () => {
    const t = await answered('flag');
    clock.offsetMs = 3 * HOUR;
    await handleStuck(w.deps);
    expect(await k.chat(t.chatId)).toMatchObject({ state: 'waiting_real_user_reply', flagged_at: expect.any(Date) });
    await p.pool.query(`update assignment_settings set stuck_action = 'complete' where tenant_id = $1`, [t.tenantId]);
    await handleStuck(w.deps);
    expect(await k.chat(t.chatId)).toMatchObject({ state: 'completed', flagged_at: null });
    expect(await k.announced(t.chatId)).toEqual(['chat.completed']);
  });

  it('re-checks under the row lock: a chat the customer answered while the sweep waited is left alone', async () => {
    const { chatId } = await answered('flag');
    const flags = await k.metric('chats_stuck_total', { action: 'flag' });
    clock.offsetMs = 3 * HOUR;
    const holder = new pg.Client({ connectionString: p.env.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select 1 from chats where id = $1 for update', [chatId]);
      const sweep = handleStuck(w.deps);
      // Wait until the sweep is blocked on this chat's row, then let the customer's message land.
      await vi.waitFor(
        async () => {
          const r = await p.pool.query(
            `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'
                and query like '%from chats where id%for update%'`,
          );
          expect(r.rowCount).toBe(1);
        },
        { timeout: 10_000, interval: 20 },
      );
      await holder.query(
        `update chats set state = 'waiting_assignment', last_customer_message_at = now(), waiting_since = now(),
                version = version + 1 where id = $1`,
        [chatId],
      );
      await holder.query('commit');
      expect(await sweep).toBe(0);
    } finally {
      await holder.end();
    }
    expect(await k.chat(chatId)).toMatchObject({ state: 'waiting_assignment', flagged_at: null });
    expect(await k.metric('chats_stuck_total', { action: 'flag' })).toBe(flags);
  });
});

describe('views, on a frozen clock', () => {
  it('GET /chats/stuck, /queue/status and /chats/summary give exact answers', async () => {
    const t = await k.tenant('views', { stuckHours: 24, stuckAction: 'flag' });
    await k.operators(t.tenantId, [
      { id: 'A', capacity: 3 },
      { id: 'B', capacity: 2 },
      { id: 'C', capacity: 5, status: 'offline' },
    ]);
    const t0 = new Date(Math.floor(Date.now() / 1000) * 1000 - 10 * 60_000);
    const assigned = await opened(t.tenantId, t0);
    await opened(t.tenantId, new Date(t0.getTime() + 60_000));
    await opened(t.tenantId, new Date(t0.getTime() + 120_000));
    const replied = await opened(t.tenantId, new Date(t0.getTime() + 180_000));
    const done = await opened(t.tenantId, new Date(t0.getTime() + 240_000));
    clock.at = new Date(t0.getTime() + 5 * 60_000);
    expect(await k.next('A', t.token)).toMatchObject({ chatId: assigned });
    await k.processed(await k.reply(t.tenantId, replied, 'B', new Date(t0.getTime() + 360_000)));
    expect(await k.command(`/chats/${done}/complete`, {}, t.token)).toMatchObject({ status: 200 });

    // Ten minutes after t0: two wait, the oldest since t0 + 1 min (540 s).
    clock.at = new Date(t0.getTime() + 10 * 60_000);
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
    clock.at = new Date(t0.getTime() + 3 * HOUR);
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
    clock.at = new Date(t0.getTime() + 25 * HOUR);
    await handleStuck(w.deps);
    const flagged = await k.get<{ chats: Array<{ chatId: string; flaggedAt: string | null }> }>(
      '/chats/stuck?hours=48',
      t.token,
    );
    expect(flagged.chats).toEqual([expect.objectContaining({ chatId: replied, flaggedAt: clock.at.toISOString() })]);
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
    const before = {
      waits: await m('chat_wait_seconds_count', { mode: 'pull' }),
      assigned: await m('chat_assignments_total', { mode: 'pull', outcome: 'assigned' }),
      none: await m('chat_assignments_total', { mode: 'pull', outcome: 'none_waiting' }),
      full: await m('chat_assignments_total', { mode: 'pull', outcome: 'at_capacity' }),
      away: await m('chat_assignments_total', { mode: 'pull', outcome: 'not_online' }),
      unknown: await m('chat_assignments_total', { mode: 'pull', outcome: 'unknown_operator' }),
      idle: await m('chat_releases_total', { reason: 'idle' }),
      barred: await m('chat_same_operator_excluded_total', { rule: 'idle' }),
    };
    expect(await k.next('A', t.token)).toMatchObject({ status: 204, reason: 'none_waiting' });
    const chatId = await opened(t.tenantId, new Date(Date.now() - 30_000));
    expect((await scrape()).gauge).toBe(depth0.gauge + 1);
    expect(await k.next('A', t.token)).toMatchObject({ chatId });
    expect(await k.next('A', t.token)).toMatchObject({ status: 204, reason: 'at_capacity' });
    expect(await k.next('B', t.token)).toMatchObject({ status: 409 });
    expect(await k.next('nobody', t.token)).toMatchObject({ status: 404 });
    const row = await p.pool.query<{ assignment_id: number }>('select assignment_id from chats where id = $1', [
      chatId,
    ]);
    clock.offsetMs = 11 * 60_000;
    expect(await releaseIdle(w.deps, { chatId, assignmentId: Number(row.rows[0]?.assignment_id) })).toBe(1);
    expect(await k.next('A', t.token)).toMatchObject({ status: 204, reason: 'none_waiting' });
    expect({
      waits: await m('chat_wait_seconds_count', { mode: 'pull' }),
      assigned: await m('chat_assignments_total', { mode: 'pull', outcome: 'assigned' }),
      none: await m('chat_assignments_total', { mode: 'pull', outcome: 'none_waiting' }),
      full: await m('chat_assignments_total', { mode: 'pull', outcome: 'at_capacity' }),
      away: await m('chat_assignments_total', { mode: 'pull', outcome: 'not_online' }),
      unknown: await m('chat_assignments_total', { mode: 'pull', outcome: 'unknown_operator' }),
      idle: await m('chat_releases_total', { reason: 'idle' }),
      barred: await m('chat_same_operator_excluded_total', { rule: 'idle' }),
    }).toEqual({
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

// Last: it stops the pipeline's assignment-worker.
describe('restart', () => {
  it('a restarted worker loses no scheduled idle check (the sweep off, so only the delayed job can release)', async () => {
    const t = await k.tenant('restart', { idleMinutes: 10 });
    await k.operators(t.tenantId, [{ id: 'A' }]);
    const chatId = await opened(t.tenantId);
    expect(await k.next('A', t.token)).toMatchObject({ chatId });
    const row = await p.pool.query<{ assignment_id: string }>('select assignment_id from chats where id = $1', [
      chatId,
    ]);
    const assignmentId = Number(row.rows[0]?.assignment_id);
    await vi.waitFor(async () => expect(await w.timers.queue.getJob(`idle-${assignmentId}`)).toBeDefined());
    await w.lifecycle.stop();
    // Keep the pipeline's stop() from stopping the old one twice.
    p.assignment = undefined;

    // A new process, its clock past the idle period and no sweep: the delayed job is still in Redis, and runs.
    const later = { now: () => new Date(Date.now() + 11 * 60_000) };
    const second = await startAssignmentWorker(
      loadAssignmentConfig({ ...p.env, ASSIGNMENT_SWEEP_EVERY_MS: '0' }),
      later,
    );
    try {
      expect(await second.timers.queue.getJobSchedulersCount()).toBe(0);
      const job = await second.timers.queue.getJob(`idle-${assignmentId}`);
      expect(job?.name).toBe('idle');
      await job?.promote();
      await k.waitState(chatId, 'waiting_assignment');
      const ended = await p.pool.query('select end_reason from chat_assignments where id = $1', [assignmentId]);
      expect(ended.rows).toEqual([{ end_reason: 'idle' }]);
    } finally {
      await second.lifecycle.stop();
    }
  });
});

import {
  type AssignmentWorker,
  handleStuck,
  loadConfig as loadAssignmentConfig,
  nextChat,
  releaseIdle,
  startAssignmentWorker,
} from '@switchboard/assignment-worker';
import type { Pipeline } from '@switchboard/test-pipeline';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
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

describe('idle assignments', () => {
  it('an assignment with no reply for idle_minutes is released and requeued at its place', async () => {
    const t = await k.tenant('idle', { idleMinutes: 10 });
    await k.operators(t.tenantId, [{ id: 'A' }]);
    const since = new Date(Date.now() - 60_000);
    const chatId = await k.opened(t.tenantId, since);
    expect(await k.next('A', t.token)).toMatchObject({ chatId });
    const idle = await k.metric('chat_releases_total', { reason: 'idle' });

    k.clock.offsetMs = 9 * 60_000;
    await releaseIdle(w.deps);
    expect(await k.chat(chatId)).toMatchObject({ state: 'assigned', assignee_id: 'A' });

    k.clock.offsetMs = 11 * 60_000;
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
    const chatId = await k.opened(t.tenantId, new Date(Date.now() - 60_000));
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
    k.clock.offsetMs = 1 * HOUR;
    await handleStuck(w.deps);
    expect(await k.chat(flag.chatId)).toMatchObject({ state: 'waiting_real_user_reply', flagged_at: null });
    expect(await k.chat(complete.chatId)).toMatchObject({ state: 'waiting_real_user_reply' });

    k.clock.at = new Date(Date.now() + 3 * HOUR);
    await handleStuck(w.deps);
    expect(await k.chat(flag.chatId)).toMatchObject({ state: 'waiting_real_user_reply', flagged_at: k.clock.at });
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
    k.clock.at = null;
    await k.processed(
      await k.customerMessage(flag.tenantId, flag.chatId, new Date()),
      await k.customerMessage(complete.tenantId, complete.chatId, new Date()),
    );
    expect(await k.chat(flag.chatId)).toMatchObject({ state: 'waiting_assignment', flagged_at: null });
    expect(await k.chat(complete.chatId)).toMatchObject({ state: 'waiting_assignment', completed_at: null });
  });

  it('a tenant that switches from flag to complete completes its flagged chats', async () => {
    const t = await answered('flag');
    k.clock.offsetMs = 3 * HOUR;
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
    k.clock.offsetMs = 3 * HOUR;
    const holder = new pg.Client({ connectionString: p.ownerDatabaseUrl });
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

describe('idle checks next-chat leaves scheduling', () => {
  it('a failure to schedule is counted (the sweep catches the assignment)', async () => {
    const t = await k.tenant('unscheduled');
    await k.operators(t.tenantId, [{ id: 'A' }]);
    const chatId = await k.opened(t.tenantId);
    const before = await k.metric('chat_idle_checks_unscheduled_total');
    const timers = w.deps.timers;
    w.deps.timers = { schedule: () => Promise.reject(new Error('redis down')) };
    try {
      expect(await k.next('A', t.token)).toMatchObject({ chatId });
      await w.deps.background.drain();
    } finally {
      w.deps.timers = timers;
    }
    expect(await k.metric('chat_idle_checks_unscheduled_total')).toBe(before + 1);
  });

  it('shutdown waits for the scheduling before it closes the timers', async () => {
    const t = await k.tenant('drain');
    await k.operators(t.tenantId, [{ id: 'A' }]);
    const chatId = await k.opened(t.tenantId);
    const own = await startAssignmentWorker(loadAssignmentConfig({ ...p.env, ASSIGNMENT_SWEEP_EVERY_MS: '0' }));
    const order: string[] = [];
    // The scheduling is held until intake has stopped (the consumer is the last intake to stop),
    // then goes to Redis for real.
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const real = own.deps.timers;
    own.deps.timers = {
      async schedule(check, delayMs) {
        await gate;
        await real.schedule(check, delayMs);
        order.push('scheduled');
      },
    };
    const { stop } = own.consumer;
    own.consumer.stop = async () => {
      await stop.call(own.consumer);
      release();
    };
    const { close } = own.timers;
    own.timers.close = () => {
      order.push('timers closing');
      return close();
    };
    try {
      expect(await nextChat(own.deps, t.tenantId, 'A')).toMatchObject({ outcome: 'assigned', chatId });
    } finally {
      await own.lifecycle.stop();
    }
    expect(order).toEqual(['scheduled', 'timers closing']);
  });
});

// Last: it stops the pipeline's assignment-worker.
describe('restart', () => {
  it('a restarted worker loses no scheduled idle check (the sweep off, so only the delayed job can release)', async () => {
    const t = await k.tenant('restart', { idleMinutes: 10 });
    await k.operators(t.tenantId, [{ id: 'A' }]);
    const chatId = await k.opened(t.tenantId);
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

import { randomUUID } from 'node:crypto';
import { CloudEvent, domainEvents } from '@switchboard/contracts';
import type { Pipeline } from '@switchboard/test-pipeline';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AssignmentKit, startAssignment } from '../fixtures/assignment.ts';

let p: Pipeline;
let k: AssignmentKit;
beforeAll(async () => {
  ({ p, k } = await startAssignment());
});
afterAll(() => k.stop());

/** A tenant with operators A and B (capacity 3) and `n` waiting chats, a second apart, oldest first. */
async function desk(slug: string, n = 1) {
  const t = await k.tenant(slug);
  await k.operators(t.tenantId, [{ id: 'A' }, { id: 'B' }]);
  const chats: string[] = [];
  for (let i = 0; i < n; i++) chats.push(await k.opened(t.tenantId, new Date(Date.now() - (n - i) * 1000)));
  return { ...t, chats };
}

const history = async (chatId: string) =>
  (
    await p.pool.query<{ operator_id: string; mode: string; end_reason: string | null; ended: boolean }>(
      `select operator_id, mode, end_reason, ended_at is not null and ended_at >= assigned_at as ended
         from chat_assignments where chat_id = $1 order by id`,
      [chatId],
    )
  ).rows;
const onBus = (key: string, chatId: string) =>
  p.events.ofKey(key).filter((e) => (e.event.data as { chatId: string }).chatId === chatId);

describe('POST /chats/:id/release', () => {
  it('hands an assigned chat back to the queue with the operator’s reason: history, chat.released', async () => {
    const t = await desk('release');
    const [chatId] = t.chats as [string];
    expect(await k.next('A', t.token)).toMatchObject({ status: 200, chatId });
    expect(await k.command(`/chats/${chatId}/release`, { reason: 'transfer' }, t.token)).toEqual({
      status: 200,
      body: { chatId, state: 'waiting_assignment', queue: null },
    });
    expect(await k.chat(chatId)).toMatchObject({
      state: 'waiting_assignment',
      assignee_id: null,
      idle_operator_id: null,
    });
    expect(await history(chatId)).toEqual([{ operator_id: 'A', mode: 'pull', end_reason: 'transfer', ended: true }]);
    await vi.waitFor(() => expect(onBus('chat.released', chatId)).toHaveLength(1));
    const [released] = onBus('chat.released', chatId);
    expect(domainEvents['chat.released'].parse(released?.event.data)).toMatchObject({
      operatorId: 'A',
      reason: 'transfer',
    });
    // A manual release does not bar the operator: it may take the chat again.
    expect(await k.next('A', t.token)).toMatchObject({ status: 200, chatId });
    // No reason: `released`.
    expect(await k.command(`/chats/${chatId}/release`, undefined, t.token)).toMatchObject({ status: 200 });
    expect((await history(chatId)).map((h) => h.end_reason)).toEqual(['transfer', 'released']);
  });

  it('404 for a chat the tenant does not have, 409 for one not assigned, 400 for an unknown reason; nothing changes', async () => {
    const t = await desk('release-refused');
    const [chatId] = t.chats as [string];
    const unknown = randomUUID();
    expect(await k.command(`/chats/${unknown}/release`, {}, t.token)).toMatchObject({ status: 404 });
    expect(await k.chat(unknown)).toBeUndefined();
    const other = await k.tenant('release-other');
    expect(await k.command(`/chats/${chatId}/release`, {}, other.token)).toMatchObject({ status: 404 });
    expect(await k.command(`/chats/${chatId}/release`, {}, t.token)).toMatchObject({
      status: 409,
      body: { error: 'conflict', message: 'not_assigned: chat is waiting_assignment' },
    });
    expect(await k.next('A', t.token)).toMatchObject({ status: 200, chatId });
    const before = await k.chat(chatId);
    const bad = await k.command(`/chats/${chatId}/release`, { reason: 'gone fishing' }, t.token);
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(String(bad.body?.message)).toContain('released');
    expect(await k.command('/chats/not-a-uuid/release', {}, t.token)).toMatchObject({ status: 400 });
    expect(await k.chat(chatId)).toEqual(before);
    expect(await history(chatId)).toEqual([{ operator_id: 'A', mode: 'pull', end_reason: null, ended: false }]);
    expect(await k.announced(chatId)).toEqual(['chat.assigned']);
  });
});

describe("another tenant's chat", () => {
  it('404 at once while its own tenant holds the row: the lookup neither locks it nor waits on it', async () => {
    const b = await desk('lock-owner');
    const [chatId] = b.chats as [string];
    expect(await k.next('A', b.token)).toMatchObject({ status: 200, chatId });
    const a = await k.tenant('lock-intruder');
    const holder = await p.pool.connect();
    try {
      await holder.query('begin');
      await holder.query('select 1 from chats where id = $1 for update', [chatId]);
      const pid = (await holder.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
      for (const [path, body] of [
        ['release', {}],
        ['complete', {}],
        ['queue', { queue: 'vip' }],
      ] as const) {
        // Whichever comes first: A's answer, or a backend found waiting on B's transaction.
        let answered = false;
        const blocked = async () => {
          while (!answered) {
            const r = await p.pool.query('select 1 from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [pid]);
            if (r.rowCount) return 'blocked on the other tenant’s row';
          }
          return 'answered';
        };
        const answer = k.command(`/chats/${chatId}/${path}`, body, a.token).finally(() => {
          answered = true;
        });
        const first = await Promise.race([answer.then((r) => r.status), blocked()]);
        expect(first, path).toBe(404);
      }
    } finally {
      await holder.query('rollback');
      holder.release();
    }
    expect(await k.chat(chatId)).toMatchObject({ state: 'assigned', assignee_id: 'A', queue: null });
    expect(await k.announced(chatId)).toEqual(['chat.assigned']);
  });
});

describe('POST /chats/:id/complete', () => {
  it('completes an assigned chat (ending its assignment) or a waiting one; chat.completed on the bus', async () => {
    const t = await desk('complete', 2);
    const [held, waiting] = t.chats as [string, string];
    expect(await k.next('A', t.token)).toMatchObject({ chatId: held });
    expect(await k.command(`/chats/${held}/complete`, { reason: 'resolved' }, t.token)).toMatchObject({
      status: 200,
      body: { state: 'completed' },
    });
    expect(await k.command(`/chats/${waiting}/complete`, undefined, t.token)).toMatchObject({ status: 200 });
    expect(await history(held)).toEqual([{ operator_id: 'A', mode: 'pull', end_reason: 'completed', ended: true }]);
    expect(await history(waiting)).toEqual([]);
    expect(await k.announced(held)).toEqual(['chat.assigned', 'chat.released', 'chat.completed']);
    expect(await k.announced(waiting)).toEqual(['chat.completed']);
    await vi.waitFor(() => expect(onBus('chat.completed', waiting)).toHaveLength(1));
    await vi.waitFor(() => expect(onBus('chat.completed', held)).toHaveLength(1));
    for (const [chatId, reason] of [
      [held, 'resolved'],
      [waiting, 'completed by operator'],
    ] as const) {
      const event = onBus('chat.completed', chatId)[0]?.event;
      if (!event) throw new Error(`no chat.completed for ${chatId}`);
      expect(CloudEvent.parse(event)).toMatchObject({ subject: chatId, tenantid: t.tenantId });
      expect(domainEvents['chat.completed'].parse(event.data)).toMatchObject({ chatId, reason });
    }
    expect(await k.chat(held)).toMatchObject({ state: 'completed', assignee_id: null, closed: false });
    const load = await p.pool.query(`select active_chats from operators where tenant_id = $1 and id = 'A'`, [
      t.tenantId,
    ]);
    expect(load.rows).toEqual([{ active_chats: 0 }]);
  });

  it('404 for an unknown chat creates nothing and announces nothing; 409 on a completed chat', async () => {
    const t = await desk('complete-refused');
    const unknown = randomUUID();
    expect(await k.command(`/chats/${unknown}/complete`, {}, t.token)).toMatchObject({ status: 404 });
    expect(await k.chat(unknown)).toBeUndefined();
    expect(await k.announced(unknown)).toEqual([]);
    const [chatId] = t.chats as [string];
    expect(await k.command(`/chats/${chatId}/complete`, {}, t.token)).toMatchObject({ status: 200 });
    expect(await k.command(`/chats/${chatId}/complete`, {}, t.token)).toMatchObject({
      status: 409,
      body: { message: 'already_completed' },
    });
    expect(await k.command(`/chats/${chatId}/release`, {}, t.token)).toMatchObject({ status: 409 });
    expect(await k.announced(chatId)).toEqual(['chat.completed']);
  });
});

describe('POST /chats/:id/queue', () => {
  it('routes a chat to a queue: only operators with that skill get it from next-chat', async () => {
    const t = await desk('queue', 2);
    const [vip, plain] = t.chats as [string, string];
    await p.pool.query(`update operators set skills = '{vip}' where tenant_id = $1 and id = 'B'`, [t.tenantId]);
    expect(await k.command(`/chats/${vip}/queue`, { queue: 'vip' }, t.token)).toEqual({
      status: 200,
      body: { chatId: vip, state: 'waiting_assignment', queue: 'vip' },
    });
    // A lacks the skill: it gets the younger chat, then nothing.
    expect(await k.next('A', t.token)).toMatchObject({ chatId: plain });
    expect(await k.next('A', t.token)).toMatchObject({ status: 204, reason: 'none_waiting' });
    expect(await k.next('B', t.token)).toMatchObject({ chatId: vip });
    expect(await k.command(`/chats/${vip}/queue`, { queue: 'billing' }, t.token)).toMatchObject({ status: 200 });
    expect(await k.command(`/chats/${randomUUID()}/queue`, { queue: 'vip' }, t.token)).toMatchObject({ status: 404 });
    expect(await k.command(`/chats/${vip}/queue`, { queue: '' }, t.token)).toMatchObject({ status: 400 });
    expect(await k.command(`/chats/${vip}/queue`, {}, t.token)).toMatchObject({ status: 400 });
    await k.command(`/chats/${plain}/complete`, {}, t.token);
    expect(await k.command(`/chats/${plain}/queue`, { queue: null }, t.token)).toMatchObject({ status: 409 });
  });
});

describe('the same-operator rule in SQL', () => {
  it('bars the operator who answered last from a waiting chat, B may take it; the exclusion counts only when it cost A that chat', async () => {
    // The state machine never queues a chat its last operator answered after the customer (the
    // customer must write first); the claim's SQL guards every row anyway, so build one here.
    const t = await desk('rule', 0);
    const barred = randomUUID();
    const younger = randomUUID();
    await p.pool.query(
      `insert into chats (id, tenant_id, state, waiting_since, last_customer_message_at, last_operator_id, operator_replied_at)
       values ($1, $3, 'waiting_assignment', now() - interval '10 minutes', now() - interval '10 minutes', 'A', now() - interval '5 minutes'),
              ($2, $3, 'waiting_assignment', now() - interval '1 minute', now() - interval '1 minute', null, null)`,
      [barred, younger, t.tenantId],
    );
    const excluded = () => k.metric('chat_same_operator_excluded_total', { rule: 'last_replied' });
    const before = await excluded();
    expect(await k.next('A', t.token)).toMatchObject({ status: 200, chatId: younger });
    expect(await excluded()).toBe(before + 1);
    expect(await k.next('A', t.token)).toMatchObject({ status: 204, reason: 'none_waiting' });
    expect(await excluded()).toBe(before + 2);
    expect(await k.next('B', t.token)).toMatchObject({ status: 200, chatId: barred });
    // A barred chat younger than the one A gets cost A nothing: not counted.
    const later = randomUUID();
    const older = randomUUID();
    await p.pool.query(
      `insert into chats (id, tenant_id, state, waiting_since, last_customer_message_at, last_operator_id, operator_replied_at)
       values ($1, $3, 'waiting_assignment', now(), now() - interval '1 hour', 'A', now()),
              ($2, $3, 'waiting_assignment', now() - interval '1 hour', now() - interval '1 hour', null, null)`,
      [later, older, t.tenantId],
    );
    expect(await k.next('A', t.token)).toMatchObject({ status: 200, chatId: older });
    expect(await excluded()).toBe(before + 2);
  });
});

describe('metrics count only what committed', () => {
  it('a release whose transaction fails counts nothing; the retried one counts once', async () => {
    const t = await desk('commit-metric');
    const [chatId] = t.chats as [string];
    expect(await k.next('A', t.token)).toMatchObject({ chatId });
    const released = () => k.metric('chat_releases_total', { reason: 'wrong_queue' });
    const before = await released();
    // This test's own database: make the outbox refuse chat.released, so the release rolls back
    // after the state machine and the write have run.
    await p.pool.query(`create function refuse_release() returns trigger language plpgsql as $$
      begin if new.routing_key = 'chat.released' then raise exception 'refused for the test'; end if; return new; end $$`);
    await p.pool.query(
      'create trigger refuse_release before insert on outbox for each row execute function refuse_release()',
    );
    try {
      expect(await k.command(`/chats/${chatId}/release`, { reason: 'wrong_queue' }, t.token)).toMatchObject({
        status: 500,
      });
      expect(await released()).toBe(before);
      expect(await k.chat(chatId)).toMatchObject({ state: 'assigned', assignee_id: 'A' });
    } finally {
      await p.pool.query('drop trigger refuse_release on outbox; drop function refuse_release()');
    }
    expect(await k.command(`/chats/${chatId}/release`, { reason: 'wrong_queue' }, t.token)).toMatchObject({
      status: 200,
    });
    expect(await released()).toBe(before + 1);
  });
});

import { randomUUID } from 'node:crypto';
import {
  type AssignmentWorker,
  loadConfig as loadAssignmentConfig,
  releaseIdle,
  startAssignmentWorker,
} from '@switchboard/assignment-worker';
import { CloudEvent, domainEvents, domainEventType, encodeEvent } from '@switchboard/contracts';
import { issueApiToken, seedTenant } from '@switchboard/db';
import {
  agentDeskEvent,
  type Pipeline,
  signedAgentDesk,
  signedWhatsApp,
  startPipeline,
  testUrls,
  whatsappText,
} from '@switchboard/testing';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/** A clock the assignment-worker reads; tests move it instead of sleeping. */
const clock = { offsetMs: 0, now: () => new Date(Date.now() + clock.offsetMs) };

let p: Pipeline;
let conn: amqp.ChannelModel;
let ch: amqp.ConfirmChannel;
beforeAll(async () => {
  p = await startPipeline({ assignment: { now: () => clock.now() } });
  conn = await amqp.connect(testUrls.amqp);
  ch = await conn.createConfirmChannel();
});
afterAll(async () => {
  await conn.close();
  await p.stop();
});

let phone = 16315557000;
/** A customer writes on WhatsApp; returns the conversation (= chat) id. */
async function customerWrites(from?: string): Promise<{ chatId: string; from: string }> {
  const sender = from ?? String(++phone);
  const wamid = `wamid.assign-${randomUUID()}`;
  expect(
    (await p.post('/webhooks/whatsapp', signedWhatsApp(whatsappText({ from: sender, id: wamid, text: 'hello?' }))))
      .status,
  ).toBe(200);
  let chatId = '';
  await vi.waitFor(async () => {
    const r = await p.pool.query<{ conversation_id: string }>(
      'select conversation_id from messages where provider_message_id = $1',
      [wamid],
    );
    chatId = r.rows[0]?.conversation_id ?? '';
    expect(chatId).not.toBe('');
  });
  return { chatId, from: sender };
}

async function operatorStatus(operatorId: string, status: string, capacity = 3) {
  const res = await p.postWebhooks(
    '/webhooks/agent-desk',
    signedAgentDesk(agentDeskEvent('operator.status_changed', { operatorId, status, capacity })),
  );
  expect(res.status).toBe(200);
  await vi.waitFor(async () => {
    const r = await p.pool.query('select 1 from operators where id = $1 and status = $2', [operatorId, status]);
    expect(r.rows).toHaveLength(1);
  });
}

/**
 * The operator replies on the agent desk: the signed webhook → the sync-worker records it as an
 * outbound message and announces `message.sent` (author kind operator) → the assignment-worker.
 */
async function operatorReplies(chatId: string, operatorId: string) {
  const res = await p.postWebhooks(
    '/webhooks/agent-desk',
    signedAgentDesk(
      agentDeskEvent('operator.replied', {
        conversationId: chatId,
        operatorId,
        messageId: `desk-${randomUUID()}`,
        text: 'On it',
      }),
    ),
  );
  expect(res.status).toBe(200);
}

const chatState = async (id: string) =>
  (
    await p.pool.query<{
      state: string;
      assignee_id: string | null;
      last_operator_id: string | null;
      operator_replied_at: Date | null;
    }>('select state, assignee_id, last_operator_id, operator_replied_at from chats where id = $1', [id])
  ).rows[0];
const waitState = (id: string, state: string) =>
  vi.waitFor(async () => expect((await chatState(id))?.state).toBe(state), { timeout: 10_000, interval: 50 });
const next = async (operatorId: string) => {
  const res = await p.assignmentApi(`/operators/${operatorId}/next-chat`, { method: 'POST' });
  return { status: res.status, body: res.status === 200 ? ((await res.json()) as { chatId: string }) : null };
};

describe('chat assignment (seed 004)', () => {
  it('the manual test flow: assigned, replied, a different chat next, assignable again when the user replies', async () => {
    await operatorStatus('op-a', 'online');
    const x = await customerWrites();
    await waitState(x.chatId, 'waiting_assignment');

    const first = await next('op-a');
    expect(first).toEqual({ status: 200, body: expect.objectContaining({ chatId: x.chatId }) });
    expect(await chatState(x.chatId)).toMatchObject({ state: 'assigned', assignee_id: 'op-a' });

    await operatorReplies(x.chatId, 'op-a');
    await waitState(x.chatId, 'waiting_real_user_reply');
    const replied = await chatState(x.chatId);
    expect(replied).toMatchObject({ assignee_id: null, last_operator_id: 'op-a' });
    expect(replied?.operator_replied_at).not.toBeNull();

    const y = await customerWrites();
    await waitState(y.chatId, 'waiting_assignment');
    const second = await next('op-a');
    expect(second.body?.chatId).toBe(y.chatId);

    await customerWrites(x.from);
    await waitState(x.chatId, 'waiting_assignment');
    await vi.waitFor(() =>
      expect(p.events.ofKey('chat.released').map((e) => e.event.data)).toContainEqual(
        expect.objectContaining({ chatId: x.chatId, operatorId: 'op-a', reason: 'replied' }),
      ),
    );
    // next-chat writes its chat.assigned in SQL: the event on the bus keeps the contract.
    await vi.waitFor(() => expect(p.events.ofKey('chat.assigned')).toHaveLength(2));
    for (const { event } of p.events.ofKey('chat.assigned')) {
      expect(CloudEvent.parse(event)).toMatchObject({
        type: domainEventType('chat.assigned'),
        tenantid: p.tenant.tenantId,
      });
      expect(domainEvents['chat.assigned'].parse(event.data)).toMatchObject({ operatorId: 'op-a', mode: 'pull' });
      expect(event.subject).toBe((event.data as { chatId: string }).chatId);
    }
    expect(p.events.ofKey('chat.assigned').map((e) => (e.event.data as { chatId: string }).chatId)).toEqual([
      x.chatId,
      y.chatId,
    ]);
    const history = await p.pool.query(
      'select operator_id, end_reason from chat_assignments where chat_id = $1 order by id',
      [x.chatId],
    );
    expect(history.rows).toEqual([{ operator_id: 'op-a', end_reason: 'replied' }]);
  });

  it('a redelivered event changes nothing', async () => {
    const x = await customerWrites();
    await waitState(x.chatId, 'waiting_assignment');
    const [received] = p.events.ofKey('message.received').filter((e) => e.event.subject === x.chatId);
    if (!received) throw new Error('no message.received');
    const before = await p.pool.query('select * from chats where id = $1', [x.chatId]);
    for (let i = 0; i < 3; i++)
      ch.publish(p.names.events, 'message.received', encodeEvent(received.event), { persistent: true });
    await ch.waitForConfirms();
    await new Promise((r) => setTimeout(r, 500));
    expect((await p.pool.query('select * from chats where id = $1', [x.chatId])).rows).toEqual(before.rows);
  });

  it('releases an idle assignment and shows stuck chats, on a controllable clock', async () => {
    await operatorStatus('op-idle', 'online');
    const x = await customerWrites();
    await waitState(x.chatId, 'waiting_assignment');
    // Only op-idle may take it: other operators are busy elsewhere in this file, so ask directly.
    await vi.waitFor(async () => expect((await next('op-idle')).body?.chatId).toBeDefined());
    const mine = await p.pool.query<{ id: string }>(
      "select id from chats where assignee_id = 'op-idle' and state = 'assigned'",
    );
    const chatId = mine.rows[0]?.id as string;

    const stuckBefore = await (await p.assignmentApi('/chats/stuck?hours=1')).json();
    expect((stuckBefore as { chats: Array<{ chatId: string }> }).chats.map((c) => c.chatId)).not.toContain(chatId);
    clock.offsetMs = 2 * 3_600_000; // two hours later
    const stuck = (await (await p.assignmentApi('/chats/stuck?hours=1')).json()) as {
      chats: Array<{ chatId: string; state: string }>;
    };
    expect(stuck.chats).toContainEqual(expect.objectContaining({ chatId, state: 'assigned' }));

    const worker = p.assignment as AssignmentWorker;
    expect(await releaseIdle(worker.deps)).toBeGreaterThanOrEqual(1);
    expect(await chatState(chatId)).toMatchObject({ state: 'waiting_assignment', assignee_id: null });
    const ended = await p.pool.query(
      "select end_reason from chat_assignments where chat_id = $1 and operator_id = 'op-idle'",
      [chatId],
    );
    expect(ended.rows).toEqual([{ end_reason: 'idle' }]);
    clock.offsetMs = 0;

    const summary = (await (await p.assignmentApi('/chats/summary')).json()) as Record<string, number>;
    expect(summary.waiting_assignment).toBeGreaterThanOrEqual(1);
    const status = (await (await p.assignmentApi('/queue/status')).json()) as {
      waiting: number;
      operatorsOnline: number;
    };
    expect(status.waiting).toBeGreaterThanOrEqual(1);
    expect(status.operatorsOnline).toBeGreaterThanOrEqual(1);
  });

  it('200 operators calling next-chat at once over 1,000 waiting chats: no chat twice, no operator over capacity, never the chat it just answered', async () => {
    const t = await seedTenant(p.db, { slug: 'load', name: 'Load', channels: [] });
    const { token } = await issueApiToken(p.db, t.tenantId, 'load test');
    await p.pool.query(
      `insert into operators (tenant_id, id, status, capacity)
       select $1, 'cop-' || i, 'online', 1 + (i * 7) % 8 from generate_series(1, 200) i`,
      [t.tenantId],
    );
    // 1,000 waiting chats; every tenth was last answered by an operator and came back without the
    // customer writing since (released), so that operator must not get it.
    await p.pool.query(
      `insert into chats (id, tenant_id, state, waiting_since, last_customer_message_at, last_operator_id, operator_replied_at)
       select gen_random_uuid(), $1, 'waiting_assignment', now() - (1000 - i) * interval '1 second', now() - interval '2 hours',
              case when i % 10 = 0 then 'cop-' || (1 + i % 200) end,
              case when i % 10 = 0 then now() - interval '1 hour' end
         from generate_series(1, 1000) i`,
      [t.tenantId],
    );
    const capacity = await p.pool.query<{ total: number }>(
      'select sum(capacity)::int as total from operators where tenant_id = $1',
      [t.tenantId],
    );
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, k) => {
        const id = `cop-${k + 1}`;
        const got: string[] = [];
        for (;;) {
          const res = await p.assignmentApi(`/operators/${id}/next-chat`, { method: 'POST', token });
          if (res.status !== 200) {
            expect(res.status).toBe(204);
            break;
          }
          got.push(((await res.json()) as { chatId: string }).chatId);
        }
        return { id, got };
      }),
    );
    const all = results.flatMap((r) => r.got);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(Math.min(1000, capacity.rows[0]?.total ?? 0));
    const over = await p.pool.query(
      `select o.id from operators o
        where o.tenant_id = $1 and (select count(*) from chats c where c.assignee_id = o.id and c.state = 'assigned' and c.tenant_id = $1) > o.capacity`,
      [t.tenantId],
    );
    expect(over.rows).toEqual([]);
    const barred = await p.pool.query(
      `select id from chats where tenant_id = $1 and state = 'assigned' and assignee_id = last_operator_id`,
      [t.tenantId],
    );
    expect(barred.rows).toEqual([]);
    const twice = await p.pool.query(
      'select chat_id from chat_assignments where tenant_id = $1 group by chat_id having count(*) > 1',
      [t.tenantId],
    );
    expect(twice.rows).toEqual([]);
  });

  // Last: it stops the pipeline's assignment-worker.
  it('a restarted worker loses no scheduled idle check', async () => {
    await operatorStatus('op-restart', 'online');
    const x = await customerWrites();
    await waitState(x.chatId, 'waiting_assignment');
    await vi.waitFor(async () => expect((await next('op-restart')).status).toBe(200));
    const held = await p.pool.query<{ id: string; assignment_id: number }>(
      "select id, assignment_id from chats where assignee_id = 'op-restart' and state = 'assigned'",
    );
    const { id: chatId, assignment_id: assignmentId } = held.rows[0] as { id: string; assignment_id: number };
    const first = p.assignment as AssignmentWorker;
    expect(await first.timers.queue.getJob(`idle-${assignmentId}`)).toBeDefined();
    await first.lifecycle.stop();

    // A new process, its clock past the idle period: the delayed job is still in Redis, and runs.
    const later = { now: () => new Date(Date.now() + 11 * 60_000) };
    const second = await startAssignmentWorker(loadAssignmentConfig(p.env), later);
    try {
      const job = await second.timers.queue.getJob(`idle-${assignmentId}`);
      expect(job).toBeDefined();
      await job?.promote();
      await waitState(chatId, 'waiting_assignment');
    } finally {
      await second.lifecycle.stop();
    }
    // Keep the pipeline's stop() from stopping the old one twice.
    p.assignment = undefined;
  });
});

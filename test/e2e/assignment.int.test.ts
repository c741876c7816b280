import { randomUUID } from 'node:crypto';
import { CloudEvent, domainEvents, domainEventType } from '@switchboard/contracts';
import type { Pipeline } from '@switchboard/test-pipeline';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AssignmentKit, startAssignment } from '../fixtures/assignment.ts';

let p: Pipeline;
let k: AssignmentKit;
beforeAll(async () => {
  ({ p, k } = await startAssignment());
});
afterAll(() => k.stop());

const dataOf = (key: string, chatId: string) =>
  p.events
    .ofKey(key)
    .map((e) => e.event.data as Record<string, unknown>)
    .filter((d) => d.chatId === chatId);

describe('seed 004 through real webhooks, queues and the database', () => {
  it('assigned, replied, a different chat next, assignable again (to A too) once the user replies', async () => {
    await k.operatorStatus('op-a', 'online');
    await k.operatorStatus('op-b', 'online');
    const x = await k.customerWrites();
    await k.waitState(x.chatId, 'waiting_assignment');

    expect(await k.next('op-a')).toMatchObject({ status: 200, chatId: x.chatId });
    expect(await k.chat(x.chatId)).toMatchObject({ state: 'assigned', assignee_id: 'op-a' });

    await k.operatorReplies(x.chatId, 'op-a');
    await k.waitState(x.chatId, 'waiting_real_user_reply');
    const replied = await k.chat(x.chatId);
    expect(replied).toMatchObject({ assignee_id: null, last_operator_id: 'op-a' });
    expect(replied?.operator_replied_at).not.toBeNull();

    // While it waits on the user nobody gets it: A is handed a different chat, B nothing.
    const y = await k.customerWrites();
    await k.waitState(y.chatId, 'waiting_assignment');
    expect(await k.next('op-a')).toMatchObject({ status: 200, chatId: y.chatId });
    expect(await k.next('op-b')).toMatchObject({ status: 204, reason: 'none_waiting' });

    // The user replies: assignable again, to A as well (the user spoke since A's reply).
    await k.customerWrites(x.from);
    await k.waitState(x.chatId, 'waiting_assignment');
    expect(await k.next('op-a')).toMatchObject({ status: 200, chatId: x.chatId });

    await vi.waitFor(() =>
      expect(dataOf('chat.released', x.chatId)).toEqual([
        expect.objectContaining({ operatorId: 'op-a', reason: 'replied' }),
      ]),
    );
    // next-chat writes its chat.assigned in SQL: the event on the bus keeps the contract.
    await vi.waitFor(() => expect(p.events.ofKey('chat.assigned')).toHaveLength(3));
    for (const { event } of p.events.ofKey('chat.assigned')) {
      expect(CloudEvent.parse(event)).toMatchObject({
        type: domainEventType('chat.assigned'),
        tenantid: p.tenant.tenantId,
      });
      expect(domainEvents['chat.assigned'].parse(event.data)).toMatchObject({ operatorId: 'op-a', mode: 'pull' });
      expect(event.subject).toBe((event.data as { chatId: string }).chatId);
    }
    const history = await p.pool.query(
      'select operator_id, mode, end_reason, ended_at is not null as ended from chat_assignments where chat_id = $1 order by id',
      [x.chatId],
    );
    expect(history.rows).toEqual([
      { operator_id: 'op-a', mode: 'pull', end_reason: 'replied', ended: true },
      { operator_id: 'op-a', mode: 'pull', end_reason: null, ended: false },
    ]);
  });

  it('the desk clock running ahead cannot keep the same-operator rule from lifting', async () => {
    await k.operatorStatus('op-skew', 'online', { capacity: 1 });
    const x = await k.customerWrites();
    await k.waitState(x.chatId, 'waiting_assignment');
    expect(await k.next('op-skew')).toMatchObject({ status: 200, chatId: x.chatId });
    // The desk stamps its reply five minutes ahead of the database's clock.
    await k.operatorReplies(x.chatId, 'op-skew', new Date(Date.now() + 5 * 60_000));
    await k.waitState(x.chatId, 'waiting_real_user_reply');
    await k.customerWrites(x.from);
    // Recorded after the reply by the store's one clock: back in the queue, and op-skew may take it.
    await k.waitState(x.chatId, 'waiting_assignment');
    expect(await k.next('op-skew')).toMatchObject({ status: 200, chatId: x.chatId });
  });
});

describe('out-of-order events (bus)', () => {
  it('a reply applied after the customer’s newer message leaves the chat in the queue; times never move back', async () => {
    const t = await k.tenant('order');
    const chatId = randomUUID();
    const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 12, 0, s));
    await k.customerMessage(t.tenantId, chatId, at(10));
    await k.waitState(chatId, 'waiting_assignment');
    await k.customerMessage(t.tenantId, chatId, at(30));
    await vi.waitFor(async () => expect((await k.chat(chatId))?.last_customer_message_at).toEqual(at(30)));
    // The operator's reply was written at 20 s but arrives last: it answered the first message only.
    await k.reply(t.tenantId, chatId, 'op-late', at(20));
    await vi.waitFor(async () => expect((await k.chat(chatId))?.last_operator_id).toBe('op-late'));
    expect(await k.chat(chatId)).toMatchObject({
      state: 'waiting_assignment',
      operator_replied_at: at(20),
      last_customer_message_at: at(30),
      waiting_since: at(10),
    });
    // A late copy of the first message does not move the customer's time back.
    await k.customerMessage(t.tenantId, chatId, at(10));
    await k.reply(t.tenantId, chatId, 'op-late', at(40));
    await k.waitState(chatId, 'waiting_real_user_reply');
    expect(await k.chat(chatId)).toMatchObject({ last_customer_message_at: at(30), operator_replied_at: at(40) });
    expect(await k.announced(chatId)).toEqual([]);
  });
});

describe('completion', () => {
  it('an operator’s completion resolves the conversation (seed 000: closed); the customer’s next message opens another', async () => {
    await k.operatorStatus('op-c', 'online');
    const x = await k.customerWrites();
    await k.waitState(x.chatId, 'waiting_assignment');
    expect(await k.next('op-c')).toMatchObject({ status: 200, chatId: x.chatId });
    expect(await k.command(`/chats/${x.chatId}/complete`, { reason: 'resolved' })).toEqual({
      status: 200,
      body: { chatId: x.chatId, state: 'completed', queue: null },
    });
    await vi.waitFor(() =>
      expect(dataOf('chat.completed', x.chatId)).toEqual([expect.objectContaining({ reason: 'resolved' })]),
    );
    expect(dataOf('chat.released', x.chatId)).toEqual([
      expect.objectContaining({ operatorId: 'op-c', reason: 'completed' }),
    ]);
    // The sync-worker closes the conversation with the operator as actor; its close completes the chat for good.
    await vi.waitFor(async () => expect(await k.chat(x.chatId)).toMatchObject({ state: 'completed', closed: true }), {
      timeout: 10_000,
    });
    const closed = await p.pool.query(
      `select status, changed_by, reason from status_history where entity_id = $1 and is_active`,
      [x.chatId],
    );
    expect(closed.rows).toEqual([{ status: 'closed', changed_by: 'op-c', reason: 'completed: resolved' }]);

    // A message recorded before the completion but delivered after it changes nothing.
    const before = await p.pool.query<{ t: Date }>(
      `select completed_at - interval '1 second' as t from chats where id = $1`,
      [x.chatId],
    );
    await k.processed(await k.customerMessage(p.tenant.tenantId, x.chatId, before.rows[0]?.t as Date));
    expect(await k.chat(x.chatId)).toMatchObject({ state: 'completed' });
    const y = await k.customerWrites(x.from);
    expect(y.chatId).not.toBe(x.chatId);
    await k.waitState(y.chatId, 'waiting_assignment');
    expect(await k.chat(x.chatId)).toMatchObject({ state: 'completed', closed: true });
  });

  it('the conversation closing is final', async () => {
    const t = await k.tenant('close');
    const chatId = randomUUID();
    await k.processed(await k.customerMessage(t.tenantId, chatId, new Date()));
    await k.processed(await k.closeConversation(t.tenantId, chatId));
    expect(await k.chat(chatId)).toMatchObject({ state: 'completed', closed: true });
    const later = [
      await k.customerMessage(t.tenantId, chatId, new Date(Date.now() + 60_000)),
      await k.reply(t.tenantId, chatId, 'op-x', new Date(Date.now() + 120_000)),
    ];
    await k.processed(...later);
    expect(await k.command(`/chats/${chatId}/complete`, {}, t.token)).toMatchObject({
      status: 409,
      body: { message: 'already_completed' },
    });
    expect(await k.chat(chatId)).toMatchObject({ state: 'completed', closed: true, last_operator_id: null });
    expect(await k.announced(chatId)).toEqual(['chat.completed']);
  });

  it('a close of a conversation the queue never saw creates nothing', async () => {
    const t = await k.tenant('close-unknown');
    const chatId = randomUUID();
    await k.processed(await k.closeConversation(t.tenantId, chatId));
    expect(await k.chat(chatId)).toBeUndefined();
  });
});

import { type AssignmentWorker, releaseIdle } from '@switchboard/assignment-worker';
import { createEvent, domainEventType } from '@switchboard/contracts';
import type { Pipeline } from '@switchboard/test-pipeline';
import { agentDeskEvent, helpdeskEvent, signedAgentDesk, signedHelpdesk } from '@switchboard/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AssignmentKit, startAssignment } from '../fixtures/assignment.ts';

/**
 * The chat queue moves the conversation (issue 18, seed 000): through the real webhooks, a
 * WhatsApp conversation taken with next-chat becomes `active` and its `new` ticket `open`, with
 * history rows naming the operator; an idle release returns it to `open`; the desk's re-assign
 * of an active conversation records the transfer (history row, `conversation.transferred` once).
 */
let p: Pipeline;
let k: AssignmentKit;
let w: AssignmentWorker;
beforeAll(async () => {
  ({ p, k, w } = await startAssignment({ clock: true }));
});
afterEach(() => k.clock.reset());
afterAll(() => k.stop());

type History = {
  status: string;
  previousStatus: string | null;
  changedBy: string | null;
  source: string;
  reason: string | null;
};
const history = async (path: string) =>
  ((await (await p.api(path)).json()) as { status: string; history: History[] }).history;
const conversation = async (id: string) =>
  (await (await p.api(`/conversations/${id}`)).json()) as Record<string, unknown>;
const wait = (fn: () => Promise<void>) => vi.waitFor(fn, { timeout: 10_000, interval: 50 });
const transfers = (id: string) =>
  p.events
    .ofKey('conversation.transferred')
    .filter((e) => e.event.subject === id)
    .map((e) => e.event.data as { previousAgentId: string | null; agentId: string; origin: string });

describe('assignment moves the conversation', () => {
  it('next-chat: active, its new ticket open, history naming the operator; idle release: open again', async () => {
    await k.operators(p.tenant.tenantId, [{ id: 'op-ana' }]);
    const { chatId } = await k.customerWrites();
    const ticket = helpdeskEvent('ticket.created', { ticketId: `HD-${chatId.slice(0, 8)}`, conversationId: chatId });
    expect((await p.postWebhooks('/webhooks/helpdesk', signedHelpdesk(ticket))).status).toBe(200);
    await wait(async () => expect((await history(`/tickets/HD-${chatId.slice(0, 8)}/status-history`)).length).toBe(1));
    await k.waitState(chatId, 'waiting_assignment');

    expect(await k.next('op-ana')).toMatchObject({ status: 200, chatId });
    await wait(async () => expect(await conversation(chatId)).toMatchObject({ status: 'active', agentId: 'op-ana' }));
    expect((await history(`/conversations/${chatId}/status-history`)).at(-1)).toMatchObject({
      status: 'active',
      previousStatus: 'open',
      changedBy: 'op-ana',
      source: 'agent',
      reason: 'assigned to op-ana (pull)',
    });
    expect((await history(`/tickets/HD-${chatId.slice(0, 8)}/status-history`)).map((h) => h.status)).toEqual([
      'new',
      'open',
    ]);
    // Events reach the collector once the relay published them.
    await wait(async () =>
      expect(transfers(chatId)).toEqual([
        expect.objectContaining({ previousAgentId: null, agentId: 'op-ana', origin: 'assignment' }),
      ]),
    );

    k.clock.offsetMs = 11 * 60_000;
    expect(await releaseIdle(w.deps)).toBeGreaterThanOrEqual(1);
    await wait(async () => expect(await conversation(chatId)).toMatchObject({ status: 'open', agentId: null }));
    expect((await history(`/conversations/${chatId}/status-history`)).at(-1)).toMatchObject({
      status: 'open',
      previousStatus: 'active',
      changedBy: 'op-ana',
      reason: 'released: idle',
    });
    // The ticket keeps working (seed 000: back to open changes no ticket).
    expect((await history(`/tickets/HD-${chatId.slice(0, 8)}/status-history`)).map((h) => h.status)).toEqual([
      'new',
      'open',
    ]);
    // Closed on the desk, so the next tests' next-chat does not hand out this chat, whose agent
    // change is dated on the moved clock (a real-time chat.assigned would be older, so stale).
    k.clock.reset();
    const close = agentDeskEvent('conversation.close_requested', { conversationId: chatId, operatorId: 'op-ana' });
    expect((await p.postWebhooks('/webhooks/agent-desk', signedAgentDesk(close))).status).toBe(200);
    await k.waitState(chatId, 'completed');
  });

  it('a redelivered chat.assigned changes nothing', async () => {
    await k.operators(p.tenant.tenantId, [{ id: 'op-ben' }]);
    const written = await k.customerWrites();
    await k.waitState(written.chatId, 'waiting_assignment');
    // The oldest waiting chat (the first test's, released for idleness, may come first).
    const { chatId } = (await k.next('op-ben')) as { chatId: string };
    await wait(async () => expect(await conversation(chatId)).toMatchObject({ status: 'active' }));
    await wait(async () => expect(transfers(chatId).map((t) => t.agentId)).toContain('op-ben'));
    const transfersBefore = transfers(chatId).length;
    const before = await history(`/conversations/${chatId}/status-history`);
    const assigned = p.events.ofKey('chat.assigned').find((e) => e.event.subject === chatId);
    expect(assigned).toBeDefined();
    const again = await k.send({ exchange: 'events', key: 'chat.assigned', event: assigned?.event as never });
    await wait(async () => {
      const r = await p.pool.query(`select 1 from inbox where consumer = 'sync-worker' and event_id = $1`, [again.id]);
      expect(r.rowCount).toBe(1);
    });
    expect(await history(`/conversations/${chatId}/status-history`)).toEqual(before);
    expect(transfers(chatId)).toHaveLength(transfersBefore);
  });

  it("the desk's re-assign of an active conversation: a history row and conversation.transferred, once each", async () => {
    const { chatId } = await k.customerWrites();
    const desk = (operatorId: string, id: string) =>
      p.postWebhooks(
        '/webhooks/agent-desk',
        signedAgentDesk(
          agentDeskEvent('conversation.assign_requested', { conversationId: chatId, operatorId }, { id }),
        ),
      );
    expect((await desk('op-cy', `desk-${chatId}-1`)).status).toBe(200);
    await wait(async () => expect(await conversation(chatId)).toMatchObject({ status: 'active', agentId: 'op-cy' }));
    expect((await desk('op-dee', `desk-${chatId}-2`)).status).toBe(200);
    await wait(async () => expect(await conversation(chatId)).toMatchObject({ agentId: 'op-dee' }));
    await wait(async () => expect(transfers(chatId)).toHaveLength(2));
    expect(transfers(chatId).map((t) => [t.previousAgentId, t.agentId, t.origin])).toEqual([
      [null, 'op-cy', 'agent_desk'],
      ['op-cy', 'op-dee', 'agent_desk'],
    ]);
    const rows = await history(`/conversations/${chatId}/status-history`);
    expect(rows.slice(-2)).toEqual([
      expect.objectContaining({ status: 'active', previousStatus: 'open', changedBy: 'op-cy' }),
      expect.objectContaining({
        status: 'active',
        previousStatus: 'active',
        changedBy: 'op-dee',
        source: 'agent',
        reason: 'transferred from op-cy to op-dee',
      }),
    ]);
    expect(rows.filter((r) => (r as { isActive?: boolean }).isActive)).toHaveLength(1);
  });

  it('a transfer to a named operator: atomic, capacity-checked, conversation.transferred once, capacity moved', async () => {
    await k.operators(p.tenant.tenantId, [
      { id: 'op-eve' },
      { id: 'op-fay', capacity: 1 },
      { id: 'op-gus', capacity: 0 },
    ]);
    const written = await k.customerWrites();
    await k.waitState(written.chatId, 'waiting_assignment');
    const { chatId } = (await k.next('op-eve')) as { chatId: string };
    await wait(async () => expect(await conversation(chatId)).toMatchObject({ agentId: 'op-eve' }));
    const load = async (id: string) =>
      (await p.pool.query<{ n: number }>('select active_chats as n from operators where id = $1', [id])).rows[0]?.n;

    // Refused, nothing written: at capacity, unknown, not assigned to anyone else.
    expect((await k.command(`/chats/${chatId}/transfer`, { operatorId: 'op-gus' })).status).toBe(409);
    expect((await k.command(`/chats/${chatId}/transfer`, { operatorId: 'op-nobody' })).status).toBe(404);
    expect((await k.command(`/chats/${chatId}/transfer`, { operatorId: 'op-eve' })).status).toBe(409);
    expect(await k.chat(chatId)).toMatchObject({ state: 'assigned', assignee_id: 'op-eve' });

    const moved = await k.command(`/chats/${chatId}/transfer`, { operatorId: 'op-fay', note: 'billing question' });
    expect(moved).toMatchObject({ status: 200, body: { chatId, operatorId: 'op-fay' } });
    expect(await k.chat(chatId)).toMatchObject({ state: 'assigned', assignee_id: 'op-fay' });
    expect([await load('op-eve'), await load('op-fay')]).toEqual([0, 1]);
    expect((await k.announced(chatId)).slice(-3)).toEqual(['chat.assigned', 'chat.released', 'chat.assigned']);
    await wait(async () => expect(await conversation(chatId)).toMatchObject({ status: 'active', agentId: 'op-fay' }));
    // (The chat next-chat gave op-eve may have had an agent before: only the last two are this test's.)
    await wait(async () =>
      expect(
        transfers(chatId)
          .map((t) => t.agentId)
          .slice(-2),
      ).toEqual(['op-eve', 'op-fay']),
    );
    expect(transfers(chatId).at(-1)).toMatchObject({ previousAgentId: 'op-eve', agentId: 'op-fay' });
    // The pair names each other; the conversation moves on the assignment alone, so it goes from
    // op-eve to op-fay in one history row (never through open) whichever event the worker applies first.
    const published = (key: string) => p.events.ofKey(key).filter((e) => e.event.subject === chatId);
    expect(published('chat.released').at(-1)?.event.data).toMatchObject({ reason: 'transfer', toOperatorId: 'op-fay' });
    expect(published('chat.assigned').at(-1)?.event.data).toMatchObject({
      operatorId: 'op-fay',
      mode: 'transfer',
      fromOperatorId: 'op-eve',
      note: 'billing question',
    });
    const rows = await history(`/conversations/${chatId}/status-history`);
    expect(rows.slice(-2)).toEqual([
      expect.objectContaining({ status: 'active', changedBy: 'op-eve' }),
      expect.objectContaining({
        status: 'active',
        previousStatus: 'active',
        changedBy: 'op-fay',
        source: 'agent',
        reason: 'transferred from op-eve to op-fay (billing question)',
      }),
    ]);
    // op-fay has it now (and is at capacity): asking again is refused.
    expect((await k.command(`/chats/${chatId}/transfer`, { operatorId: 'op-fay' })).status).toBe(409);
  });

  it("a transfer's pair applied assignment first gives the same history as release first", async () => {
    await k.operators(p.tenant.tenantId, [{ id: 'op-hal' }, { id: 'op-ivy' }]);
    const written = await k.customerWrites();
    await k.waitState(written.chatId, 'waiting_assignment');
    const { chatId } = (await k.next('op-hal')) as { chatId: string };
    await wait(async () => expect(await conversation(chatId)).toMatchObject({ status: 'active', agentId: 'op-hal' }));
    const open = await p.pool.query<{ id: string }>('select assignment_id as id from chats where id = $1', [chatId]);
    const assignmentId = Number(open.rows[0]?.id);
    // The pair a transfer publishes, sent to the sync-worker in the order the race produced.
    const at = new Date().toISOString();
    const chatEvent = (key: 'chat.assigned' | 'chat.released', data: unknown) =>
      k.send({
        exchange: 'events',
        key,
        event: createEvent({ source: '/test', type: domainEventType(key), tenantid: p.tenant.tenantId, data }),
      });
    const inInbox = (id: string) =>
      wait(async () => {
        const r = await p.pool.query(`select 1 from inbox where consumer = 'sync-worker' and event_id = $1`, [id]);
        expect(r.rowCount).toBe(1);
      });
    const note = 'reversed';
    const assigned = await chatEvent('chat.assigned', {
      ...{ chatId, operatorId: 'op-ivy', assignmentId: assignmentId + 1_000_000, mode: 'transfer' },
      ...{ waitedMs: 0, fromOperatorId: 'op-hal', note, at },
    });
    await inInbox(assigned.id);
    const released = await chatEvent('chat.released', {
      ...{ chatId, operatorId: 'op-hal', assignmentId, reason: 'transfer' },
      ...{ note, toOperatorId: 'op-ivy', at },
    });
    await inInbox(released.id);

    expect(await conversation(chatId)).toMatchObject({ status: 'active', agentId: 'op-ivy' });
    const rows = await history(`/conversations/${chatId}/status-history`);
    expect(rows.at(-1)).toMatchObject({
      status: 'active',
      previousStatus: 'active',
      changedBy: 'op-ivy',
      reason: 'transferred from op-hal to op-ivy (reversed)',
    });
    expect(rows.filter((r) => r.status === 'open' && r.changedBy === 'op-hal')).toEqual([]);
    await wait(async () =>
      expect(transfers(chatId).at(-1)).toMatchObject({ previousAgentId: 'op-hal', agentId: 'op-ivy' }),
    );
    expect(transfers(chatId).filter((t) => t.agentId === 'op-ivy')).toHaveLength(1);
  });
});

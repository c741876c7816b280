import { describe, expect, it } from 'vitest';
import { applyChatEvent, type Chat, type ChatEvent, excludedForOperator } from './chat-state.ts';

const t = (m: number) => new Date(Date.UTC(2025, 0, 1, 12, m));
const chat = (over: Partial<Chat> = {}): Chat => ({
  state: 'waiting_assignment',
  assigneeId: null,
  lastOperatorId: null,
  operatorRepliedAt: null,
  lastCustomerMessageAt: t(0),
  waitingSince: t(0),
  ...over,
});

describe('applyChatEvent', () => {
  it.each<[string, Chat | null, ChatEvent, Partial<Chat> | string]>([
    [
      'a first customer message queues the chat',
      null,
      { kind: 'customer_message', at: t(1) },
      { state: 'waiting_assignment', waitingSince: t(1) },
    ],
    [
      'another message keeps its place in the queue',
      chat(),
      { kind: 'customer_message', at: t(2) },
      { state: 'waiting_assignment', waitingSince: t(0), lastCustomerMessageAt: t(2) },
    ],
    [
      'a message while assigned keeps the assignment',
      chat({ state: 'assigned', assigneeId: 'A' }),
      { kind: 'customer_message', at: t(2) },
      { state: 'assigned', assigneeId: 'A' },
    ],
    [
      'the customer answering makes it assignable again',
      chat({ state: 'waiting_real_user_reply', lastOperatorId: 'A', operatorRepliedAt: t(1), waitingSince: null }),
      { kind: 'customer_message', at: t(3) },
      { state: 'waiting_assignment', waitingSince: t(3), lastOperatorId: 'A' },
    ],
    [
      'an operator reply hands the turn to the customer',
      chat({ state: 'assigned', assigneeId: 'A' }),
      { kind: 'operator_reply', operatorId: 'A', at: t(2) },
      { state: 'waiting_real_user_reply', assigneeId: null, lastOperatorId: 'A', operatorRepliedAt: t(2) },
    ],
    [
      'assign takes a waiting chat',
      chat(),
      { kind: 'assign', operatorId: 'A', at: t(1) },
      { state: 'assigned', assigneeId: 'A' },
    ],
    [
      'assign refuses a chat waiting on the customer',
      chat({ state: 'waiting_real_user_reply' }),
      { kind: 'assign', operatorId: 'B', at: t(1) },
      'not_assignable: chat is waiting_real_user_reply',
    ],
    [
      'assign refuses an assigned chat',
      chat({ state: 'assigned', assigneeId: 'A' }),
      { kind: 'assign', operatorId: 'B', at: t(1) },
      'not_assignable: chat is assigned',
    ],
    [
      'release requeues at its place',
      chat({ state: 'assigned', assigneeId: 'A' }),
      { kind: 'release', reason: 'idle', at: t(9) },
      { state: 'waiting_assignment', assigneeId: null, waitingSince: t(0) },
    ],
    [
      'release refuses an unassigned chat',
      chat(),
      { kind: 'release', reason: 'x', at: t(1) },
      'not_assigned: chat is waiting_assignment',
    ],
    [
      'complete ends any chat',
      chat({ state: 'assigned', assigneeId: 'A' }),
      { kind: 'complete', reason: 'conversation closed', at: t(5) },
      { state: 'completed', assigneeId: null },
    ],
    [
      'a completed chat cannot be assigned',
      chat({ state: 'completed', waitingSince: null }),
      { kind: 'assign', operatorId: 'A', at: t(1) },
      'chat_completed',
    ],
  ])('%s', (_name, before, e, expected) => {
    const out = applyChatEvent(before, e);
    if (typeof expected === 'string') expect(out).toEqual({ ok: false, reason: expected });
    else {
      expect(out.ok).toBe(true);
      if (out.ok) expect(out.chat).toMatchObject(expected);
    }
  });

  it('reports the assignment an operator reply or completion ends', () => {
    const replied = applyChatEvent(chat({ state: 'assigned', assigneeId: 'A' }), {
      kind: 'operator_reply',
      operatorId: 'A',
      at: t(1),
    });
    expect(replied.ok && replied.effects).toEqual({ released: { operatorId: 'A', reason: 'replied' } });
    const done = applyChatEvent(chat({ state: 'assigned', assigneeId: 'A' }), {
      kind: 'complete',
      reason: 'closed',
      at: t(1),
    });
    expect(done.ok && done.effects).toEqual({
      completed: { reason: 'closed' },
      released: { operatorId: 'A', reason: 'completed' },
    });
  });

  it('a completed chat ignores later messages', () => {
    const c = chat({ state: 'completed', waitingSince: null });
    expect(applyChatEvent(c, { kind: 'customer_message', at: t(9) })).toEqual({
      ok: true,
      chat: c,
      effects: {},
      changed: false,
    });
  });
});

describe('the same-operator rule', () => {
  const replied = chat({ lastOperatorId: 'A', operatorRepliedAt: t(5), lastCustomerMessageAt: t(1) });
  it('excludes the operator who answered last while the customer has not written since', () => {
    expect(excludedForOperator(replied, 'A')).toBe(true);
    expect(excludedForOperator(replied, 'B')).toBe(false);
    expect(applyChatEvent(replied, { kind: 'assign', operatorId: 'A', at: t(6) })).toEqual({
      ok: false,
      reason: 'same_operator: this operator answered last',
    });
  });
  it('lifts once the customer wrote after the reply', () => {
    expect(excludedForOperator({ ...replied, lastCustomerMessageAt: t(7) }, 'A')).toBe(false);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Chat } from './chat.ts';
import { barredBy } from './chat-access.ts';
import { applyChatEvent, type ChatEffects, type ChatEvent } from './chat-state.ts';

const t = (m: number) => new Date(Date.UTC(2025, 0, 1, 12, m));
const base: Chat = {
  state: 'waiting_assignment',
  assigneeId: null,
  lastOperatorId: null,
  operatorRepliedAt: null,
  lastCustomerMessageAt: t(10),
  waitingSince: t(10),
  completedAt: null,
  closed: false,
  idleOperatorId: null,
  flaggedAt: null,
  queue: null,
};
const chat = (over: Partial<Chat> = {}): Chat => ({ ...base, ...over });

/** One chat per state: the customer wrote at 10, A answered at 20, an operator completed at 30. */
const states = {
  waiting: chat(),
  assigned: chat({ state: 'assigned', assigneeId: 'A' }),
  replied: chat({
    state: 'waiting_real_user_reply',
    lastOperatorId: 'A',
    operatorRepliedAt: t(20),
    waitingSince: null,
  }),
  completed: chat({
    state: 'completed',
    lastOperatorId: 'A',
    operatorRepliedAt: t(20),
    waitingSince: null,
    completedAt: t(30),
  }),
  closed: chat({ state: 'completed', waitingSince: null, completedAt: t(30), closed: true }),
};
type StateName = keyof typeof states;

const events = {
  'customer writes (newer)': { kind: 'customer_message', at: t(40) },
  'customer message, late': { kind: 'customer_message', at: t(5) },
  'reply by A': { kind: 'operator_reply', operatorId: 'A', at: t(40) },
  'reply by B': { kind: 'operator_reply', operatorId: 'B', at: t(40) },
  'reply by A older than the customer': { kind: 'operator_reply', operatorId: 'A', at: t(5) },
  'assign B': { kind: 'assign', operatorId: 'B', skills: [], at: t(41) },
  'release (idle)': { kind: 'release', reason: 'idle', at: t(41) },
  complete: { kind: 'complete', reason: 'done', at: t(41) },
  close: { kind: 'close', at: t(41) },
  'stuck: flag': { kind: 'stuck', action: 'flag', repliedBefore: t(25), at: t(41) },
  'stuck: complete': { kind: 'stuck', action: 'complete', repliedBefore: t(25), at: t(41) },
  route: { kind: 'route', queue: 'vip', at: t(41) },
} satisfies Record<string, ChatEvent>;
type EventName = keyof typeof events;

type Expect = 'unchanged' | { reject: string } | { chat: Partial<Chat>; effects?: ChatEffects };
const rejectAssign = (s: string) => ({ reject: `not_assignable: chat is ${s}` });
const rejectRelease = (s: string) => ({ reject: `not_assigned: chat is ${s}` });
const closedNow = { state: 'completed', closed: true, completedAt: t(41), assigneeId: null } as const;
const completedNow = { state: 'completed', closed: false, completedAt: t(41), assigneeId: null } as const;

/** Every state × every event. */
const table: Record<StateName, Record<EventName, Expect>> = {
  waiting: {
    'customer writes (newer)': {
      chat: { state: 'waiting_assignment', lastCustomerMessageAt: t(40), waitingSince: t(10) },
    },
    'customer message, late': 'unchanged',
    'reply by A': { chat: { state: 'waiting_real_user_reply', lastOperatorId: 'A', waitingSince: null }, effects: {} },
    'reply by B': { chat: { state: 'waiting_real_user_reply', lastOperatorId: 'B' } },
    'reply by A older than the customer': {
      chat: { state: 'waiting_assignment', lastOperatorId: 'A', operatorRepliedAt: t(5), waitingSince: t(10) },
    },
    'assign B': { chat: { state: 'assigned', assigneeId: 'B' }, effects: { assigned: { operatorId: 'B' } } },
    'release (idle)': rejectRelease('waiting_assignment'),
    complete: { chat: completedNow, effects: { completed: { reason: 'done' } } },
    close: { chat: closedNow, effects: { completed: { reason: 'conversation closed' } } },
    'stuck: flag': 'unchanged',
    'stuck: complete': 'unchanged',
    route: { chat: { state: 'waiting_assignment', queue: 'vip' } },
  },
  assigned: {
    'customer writes (newer)': { chat: { state: 'assigned', assigneeId: 'A', lastCustomerMessageAt: t(40) } },
    'customer message, late': 'unchanged',
    'reply by A': {
      chat: { state: 'waiting_real_user_reply', assigneeId: null, lastOperatorId: 'A', operatorRepliedAt: t(40) },
      effects: { released: { operatorId: 'A', reason: 'replied' } },
    },
    'reply by B': {
      chat: { state: 'waiting_real_user_reply', assigneeId: null, lastOperatorId: 'B' },
      effects: { released: { operatorId: 'A', reason: 'replied' } },
    },
    'reply by A older than the customer': {
      chat: { state: 'assigned', assigneeId: 'A', operatorRepliedAt: t(5) },
      effects: {},
    },
    'assign B': rejectAssign('assigned'),
    'release (idle)': {
      chat: { state: 'waiting_assignment', assigneeId: null, waitingSince: t(10), idleOperatorId: 'A' },
      effects: { released: { operatorId: 'A', reason: 'idle' } },
    },
    complete: {
      chat: completedNow,
      effects: { completed: { reason: 'done' }, released: { operatorId: 'A', reason: 'completed' } },
    },
    close: {
      chat: closedNow,
      effects: { completed: { reason: 'conversation closed' }, released: { operatorId: 'A', reason: 'completed' } },
    },
    'stuck: flag': 'unchanged',
    'stuck: complete': 'unchanged',
    route: { chat: { state: 'assigned', queue: 'vip' } },
  },
  replied: {
    'customer writes (newer)': { chat: { state: 'waiting_assignment', waitingSince: t(40), lastOperatorId: 'A' } },
    'customer message, late': 'unchanged',
    'reply by A': { chat: { state: 'waiting_real_user_reply', operatorRepliedAt: t(40) }, effects: {} },
    'reply by B': { chat: { state: 'waiting_real_user_reply', lastOperatorId: 'B', operatorRepliedAt: t(40) } },
    'reply by A older than the customer': 'unchanged',
    'assign B': rejectAssign('waiting_real_user_reply'),
    'release (idle)': rejectRelease('waiting_real_user_reply'),
    complete: { chat: completedNow, effects: { completed: { reason: 'done' } } },
    close: { chat: closedNow, effects: { completed: { reason: 'conversation closed' } } },
    'stuck: flag': { chat: { state: 'waiting_real_user_reply', flaggedAt: t(41) }, effects: { flagged: true } },
    'stuck: complete': { chat: completedNow, effects: { completed: { reason: 'stuck' } } },
    route: { chat: { state: 'waiting_real_user_reply', queue: 'vip' } },
  },
  completed: {
    'customer writes (newer)': {
      chat: { state: 'waiting_assignment', waitingSince: t(40), completedAt: null, lastCustomerMessageAt: t(40) },
      effects: {},
    },
    'customer message, late': 'unchanged',
    'reply by A': { chat: { state: 'completed', operatorRepliedAt: t(40) }, effects: {} },
    'reply by B': { chat: { state: 'completed', lastOperatorId: 'B' } },
    'reply by A older than the customer': 'unchanged',
    'assign B': rejectAssign('completed'),
    'release (idle)': rejectRelease('completed'),
    complete: { reject: 'already_completed' },
    close: { chat: { state: 'completed', closed: true, completedAt: t(30) }, effects: {} },
    'stuck: flag': 'unchanged',
    'stuck: complete': 'unchanged',
    route: { reject: 'chat_completed' },
  },
  closed: {
    'customer writes (newer)': 'unchanged',
    'customer message, late': 'unchanged',
    'reply by A': 'unchanged',
    'reply by B': 'unchanged',
    'reply by A older than the customer': 'unchanged',
    'assign B': rejectAssign('completed'),
    'release (idle)': rejectRelease('completed'),
    complete: { reject: 'already_completed' },
    close: 'unchanged',
    'stuck: flag': 'unchanged',
    'stuck: complete': 'unchanged',
    route: { reject: 'chat_completed' },
  },
};

const cases = (Object.keys(table) as StateName[]).flatMap((s) =>
  (Object.keys(events) as EventName[]).map((e) => [s, e, table[s][e]] as const),
);

describe('applyChatEvent: every state × every event', () => {
  it.each(cases)('%s + %s', (s, e, expected) => {
    const before = states[s];
    const out = applyChatEvent(before, events[e]);
    if (expected === 'unchanged') {
      expect(out).toEqual({ ok: true, chat: before, effects: {}, changed: false });
    } else if ('reject' in expected) {
      expect(out).toEqual({ ok: false, reason: expected.reject });
    } else {
      expect(out).toMatchObject({ ok: true, changed: true, chat: expected.chat });
      if (expected.effects && out.ok) expect(out.effects).toEqual(expected.effects);
    }
  });
});

describe('applyChatEvent: the rest', () => {
  it('a reply from the WhatsApp Business app answers the customer: the assignee is released, nobody is barred', () => {
    const assigned = { ...states.assigned, lastOperatorId: 'Z' };
    const out = applyChatEvent(assigned, { kind: 'business_reply', at: t(40) });
    expect(out).toMatchObject({
      ok: true,
      changed: true,
      chat: { state: 'waiting_real_user_reply', assigneeId: null, lastOperatorId: 'Z', operatorRepliedAt: t(40) },
      effects: { released: { operatorId: 'A', reason: 'replied' } },
    });
    expect(applyChatEvent(null, { kind: 'business_reply', at: t(1) })).toMatchObject({
      ok: true,
      chat: { state: 'waiting_real_user_reply', lastOperatorId: null },
    });
    expect(applyChatEvent(states.closed, { kind: 'business_reply', at: t(40) })).toMatchObject({ changed: false });
  });

  it('a first customer message queues an unseen conversation; a first reply waits on the customer', () => {
    expect(applyChatEvent(null, { kind: 'customer_message', at: t(1) })).toMatchObject({
      ok: true,
      changed: true,
      chat: { state: 'waiting_assignment', waitingSince: t(1), lastCustomerMessageAt: t(1) },
    });
    expect(applyChatEvent(null, { kind: 'operator_reply', operatorId: 'A', at: t(1) })).toMatchObject({
      ok: true,
      chat: { state: 'waiting_real_user_reply', lastOperatorId: 'A' },
    });
  });

  it.each<ChatEvent>([
    { kind: 'complete', reason: 'x', at: t(1) },
    { kind: 'release', reason: 'released', at: t(1) },
    { kind: 'close', at: t(1) },
    { kind: 'assign', operatorId: 'A', skills: [], at: t(1) },
    { kind: 'route', queue: 'vip', at: t(1) },
  ])('$kind on an unknown chat is refused (nothing is created)', (e) => {
    expect(applyChatEvent(null, e)).toEqual({ ok: false, reason: 'unknown_chat' });
  });

  it('a customer message after the completion but before a newer reply reopens it as answered', () => {
    const answered = applyChatEvent(states.completed, { kind: 'operator_reply', operatorId: 'A', at: t(45) });
    if (!answered.ok) throw new Error('reply refused');
    expect(applyChatEvent(answered.chat, { kind: 'customer_message', at: t(40) })).toMatchObject({
      chat: { state: 'waiting_real_user_reply', completedAt: null },
    });
  });

  it('a customer message older than the reply but newer than their last one leaves the chat with the customer', () => {
    expect(applyChatEvent(states.replied, { kind: 'customer_message', at: t(15) })).toMatchObject({
      changed: true,
      chat: { state: 'waiting_real_user_reply', lastCustomerMessageAt: t(15) },
    });
  });

  it('the stuck sweep leaves a chat whose reply is newer than its cut-off, and flags a chat once', () => {
    const early = { kind: 'stuck', action: 'flag', repliedBefore: t(15), at: t(41) } as const;
    expect(applyChatEvent(states.replied, early)).toMatchObject({ changed: false });
    const flagged = chat({ ...states.replied, flaggedAt: t(35) });
    expect(applyChatEvent(flagged, events['stuck: flag'])).toMatchObject({ changed: false });
    expect(applyChatEvent(flagged, events['stuck: complete'])).toMatchObject({
      chat: { state: 'completed', flaggedAt: null },
    });
  });

  it.each<[string, ChatEvent]>([
    ['the customer writes', { kind: 'customer_message', at: t(40) }],
    ['another reply', { kind: 'operator_reply', operatorId: 'B', at: t(40) }],
    ['completion', { kind: 'complete', reason: 'x', at: t(40) }],
  ])('a stuck flag clears when the chat moves on: %s', (_name, e) => {
    const out = applyChatEvent(chat({ ...states.replied, flaggedAt: t(35) }), e);
    expect(out).toMatchObject({ ok: true, chat: { flaggedAt: null } });
  });

  it('assign honours the queue: only an operator with that skill', () => {
    const vip = chat({ queue: 'vip' });
    expect(applyChatEvent(vip, { kind: 'assign', operatorId: 'A', skills: ['billing'], at: t(1) })).toEqual({
      ok: false,
      reason: 'wrong_queue: the chat needs vip',
    });
    expect(applyChatEvent(vip, { kind: 'assign', operatorId: 'A', skills: ['vip'], at: t(1) })).toMatchObject({
      ok: true,
      chat: { state: 'assigned' },
    });
  });
});

describe('the same-operator rule and the idle bar', () => {
  const replied = chat({ lastOperatorId: 'A', operatorRepliedAt: t(20), lastCustomerMessageAt: t(10) });
  it('bars the operator who answered last while the customer has not written since', () => {
    expect(barredBy(replied, 'A')).toBe('same_operator: this operator answered last');
    expect(barredBy(replied, 'B')).toBeNull();
    expect(applyChatEvent(replied, { kind: 'assign', operatorId: 'A', skills: [], at: t(21) })).toEqual({
      ok: false,
      reason: 'same_operator: this operator answered last',
    });
  });
  it('lifts once the customer wrote after the reply', () => {
    const wrote = applyChatEvent(replied, { kind: 'customer_message', at: t(30) });
    expect(wrote.ok && barredBy(wrote.chat, 'A')).toBeNull();
  });
  it('a reply older than the customer message does not bar its operator', () => {
    const late = applyChatEvent(chat(), { kind: 'operator_reply', operatorId: 'A', at: t(5) });
    expect(late.ok && barredBy(late.chat, 'A')).toBeNull();
  });
  it('bars the operator a chat was released from for idleness until the customer writes or someone else takes it', () => {
    const idle = applyChatEvent(states.assigned, { kind: 'release', reason: 'idle', at: t(41) });
    if (!idle.ok) throw new Error('release refused');
    expect(barredBy(idle.chat, 'A')).toBe('idle_operator: released from this operator for idleness');
    expect(barredBy(idle.chat, 'B')).toBeNull();
    const wrote = applyChatEvent(idle.chat, { kind: 'customer_message', at: t(42) });
    expect(wrote.ok && barredBy(wrote.chat, 'A')).toBeNull();
    const other = applyChatEvent(idle.chat, { kind: 'assign', operatorId: 'B', skills: [], at: t(42) });
    expect(other.ok && other.chat.idleOperatorId).toBeNull();
    const manual = applyChatEvent(states.assigned, { kind: 'release', reason: 'released', at: t(41) });
    expect(manual.ok && barredBy(manual.chat, 'A')).toBeNull();
  });
});

describe('out-of-order message events (property)', () => {
  /** Customer messages and replies at distinct minutes, from operators A and B. */
  const messages = fc
    .uniqueArray(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 12 })
    .chain((minutes) =>
      fc.tuple(
        ...minutes.map((m) =>
          fc.constantFrom<ChatEvent>(
            { kind: 'customer_message', at: t(m) },
            { kind: 'operator_reply', operatorId: 'A', at: t(m) },
            { kind: 'operator_reply', operatorId: 'B', at: t(m) },
          ),
        ),
      ),
    );
  const run = (start: Chat | null, es: ChatEvent[]) =>
    es.reduce<{ chat: Chat | null; moves: Array<[Chat | null, Chat]> }>(
      (acc, e) => {
        const out = applyChatEvent(acc.chat, e);
        if (!out.ok) throw new Error(out.reason);
        return { chat: out.chat, moves: [...acc.moves, [acc.chat, out.chat]] };
      },
      { chat: start, moves: [] },
    );
  const needsOperator = (c: Chat) => c.state === 'waiting_assignment' || c.state === 'assigned';
  const latest = (es: ChatEvent[], kind: ChatEvent['kind']) =>
    es.filter((e) => e.kind === kind).reduce<ChatEvent | null>((m, e) => (m && m.at > e.at ? m : e), null);

  it('any order ends the same: waiting for an operator exactly when the customer spoke last; times never move back', () => {
    fc.assert(
      fc.property(
        messages.chain((es) => fc.tuple(fc.constant(es), fc.shuffledSubarray(es, { minLength: es.length }))),
        fc.constantFrom<Chat | null>(null, states.waiting, states.assigned, states.replied),
        ([es, shuffled], start) => {
          const a = run(start, es);
          const b = run(start, shuffled);
          for (const end of [a.chat, b.chat]) {
            if (!end) throw new Error('no chat');
            const customer = latest(es, 'customer_message');
            const reply = latest(es, 'operator_reply');
            const l = Math.max(customer?.at.getTime() ?? 0, start?.lastCustomerMessageAt?.getTime() ?? 0);
            const r = Math.max(reply?.at.getTime() ?? 0, start?.operatorRepliedAt?.getTime() ?? 0);
            expect(end.lastCustomerMessageAt?.getTime() ?? 0).toBe(l);
            expect(end.operatorRepliedAt?.getTime() ?? 0).toBe(r);
            expect(needsOperator(end)).toBe(l > r);
          }
          expect(a.chat?.lastOperatorId).toBe(b.chat?.lastOperatorId);
          for (const [before, after] of [...a.moves, ...b.moves]) {
            if (!before) continue;
            expect(after.lastCustomerMessageAt?.getTime() ?? 0).toBeGreaterThanOrEqual(
              before.lastCustomerMessageAt?.getTime() ?? 0,
            );
            expect(after.operatorRepliedAt?.getTime() ?? 0).toBeGreaterThanOrEqual(
              before.operatorRepliedAt?.getTime() ?? 0,
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

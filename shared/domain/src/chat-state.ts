import type { Chat } from './chat.ts';
import { barredBy } from './chat-access.ts';

// How a chat moves: applyChatEvent, from the chat's states and shape (chat.ts) and who may take it
// (chat-access.ts). Every time only moves forward, so events apply in any order.

/**
 * Why an operator hands a chat back, a fixed set since they label metrics: `released` (default),
 * `transfer` (for another operator), `wrong_queue`, `manual_fix` (seed 004's
 * release_and_reassign_chat of a stuck chat); free text goes in the release's `note`.
 */
export const OPERATOR_RELEASE_REASONS = ['released', 'transfer', 'wrong_queue', 'manual_fix'] as const;
/** Why an assignment ended: the system's reasons and the operators'. */
export const RELEASE_REASONS = [
  'replied',
  'completed',
  'idle',
  'operator_offline',
  ...OPERATOR_RELEASE_REASONS,
] as const;
export type ReleaseReason = (typeof RELEASE_REASONS)[number];

export type ChatEvent =
  | { kind: 'customer_message'; at: Date }
  | { kind: 'operator_reply'; operatorId: string; at: Date }
  /** The business answered outside the desk (the WhatsApp Business app): a reply by no operator. */
  | { kind: 'business_reply'; at: Date }
  | { kind: 'assign'; operatorId: string; skills: readonly string[]; at: Date }
  | { kind: 'release'; reason: ReleaseReason; at: Date; note?: string }
  | { kind: 'complete'; reason: string; at: Date }
  | { kind: 'close'; at: Date }
  /** The stuck sweep: acts only if the chat still waits on a reply from before `repliedBefore`. */
  | { kind: 'stuck'; action: 'complete' | 'flag'; repliedBefore: Date; at: Date }
  | { kind: 'route'; queue: string | null; at: Date };

/** What a transition means beyond the new state: an assignment began or ended, the chat completed or was flagged. */
export interface ChatEffects {
  assigned?: { operatorId: string };
  released?: { operatorId: string; reason: ReleaseReason; note?: string };
  completed?: { reason: string };
  flagged?: true;
}

export type ChatTransition =
  | { ok: true; chat: Chat; effects: ChatEffects; changed: boolean }
  | { ok: false; reason: string };

type Step = { ok: true; chat: Chat; effects: ChatEffects } | { ok: false; reason: string };

const keep = (chat: Chat, effects: ChatEffects = {}): Step => ({ ok: true, chat, effects });
const reject = (reason: string): Step => ({ ok: false, reason });
const after = (a: Date, b: Date | null) => b === null || a.getTime() > b.getTime();

const EMPTY: Chat = {
  state: 'waiting_assignment',
  assigneeId: null,
  lastOperatorId: null,
  operatorRepliedAt: null,
  lastCustomerMessageAt: null,
  waitingSince: null,
  completedAt: null,
  closed: false,
  idleOperatorId: null,
  flaggedAt: null,
  queue: null,
};

/** The chat after `e`; `null` is a conversation the queue has not seen yet. Pure. */
export function applyChatEvent(chat: Chat | null, e: ChatEvent): ChatTransition {
  const step = chat === null ? first(e) : decide(chat, e);
  if (!step.ok) return step;
  const before = chat ?? EMPTY;
  const next = settle(before, step.chat);
  return { ok: true, chat: next, effects: step.effects, changed: chat === null || !sameChat(before, next) };
}

function first(e: ChatEvent): Step {
  if (e.kind === 'customer_message') return keep({ ...EMPTY, lastCustomerMessageAt: e.at, waitingSince: e.at });
  if (e.kind === 'operator_reply')
    return keep({ ...EMPTY, state: 'waiting_real_user_reply', lastOperatorId: e.operatorId, operatorRepliedAt: e.at });
  if (e.kind === 'business_reply') return keep({ ...EMPTY, state: 'waiting_real_user_reply', operatorRepliedAt: e.at });
  return reject('unknown_chat');
}

function decide(c: Chat, e: ChatEvent): Step {
  switch (e.kind) {
    case 'customer_message':
      return c.closed ? keep(c) : customerMessage(c, e.at);
    case 'operator_reply':
      return c.closed ? keep(c) : operatorReply(c, e.operatorId, e.at);
    case 'business_reply':
      return c.closed ? keep(c) : operatorReply(c, null, e.at);
    case 'assign':
      return assign(c, e.operatorId, e.skills);
    case 'release':
      if (c.state !== 'assigned' || !c.assigneeId) return reject(`not_assigned: chat is ${c.state}`);
      // Requeued at its place: the customer has waited since before the assignment.
      return keep(
        {
          ...c,
          state: 'waiting_assignment',
          assigneeId: null,
          waitingSince: c.waitingSince ?? e.at,
          idleOperatorId: e.reason === 'idle' ? c.assigneeId : null,
        },
        { released: { operatorId: c.assigneeId, reason: e.reason, ...(e.note ? { note: e.note } : {}) } },
      );
    case 'complete':
      return c.state === 'completed' ? reject('already_completed') : complete(c, e.reason, e.at, false);
    case 'close':
      if (c.closed) return keep(c);
      // Already completed by an operator: now final, but nothing new to announce.
      return c.state === 'completed' ? keep({ ...c, closed: true }) : complete(c, 'conversation closed', e.at, true);
    case 'stuck':
      return stuck(c, e);
    case 'route':
      return c.state === 'completed' ? reject('chat_completed') : keep({ ...c, queue: e.queue });
  }
}

function customerMessage(c: Chat, at: Date): Step {
  // A late or repeated message changes nothing: the chat already reflects a newer one.
  if (!after(at, c.lastCustomerMessageAt)) return keep(c);
  const seen: Chat = { ...c, lastCustomerMessageAt: at, idleOperatorId: null };
  switch (c.state) {
    case 'waiting_assignment':
      return keep({ ...seen, waitingSince: c.waitingSince ?? at });
    case 'assigned':
      return keep(seen);
    case 'waiting_real_user_reply':
      return keep(after(at, c.operatorRepliedAt) ? { ...seen, state: 'waiting_assignment', waitingSince: at } : seen);
    case 'completed':
      if (!after(at, c.completedAt)) return keep(seen);
      // Written after the completion: the conversation goes on. Answered already if a reply is newer.
      return keep(
        after(at, c.operatorRepliedAt)
          ? { ...seen, state: 'waiting_assignment', waitingSince: at, completedAt: null }
          : { ...seen, state: 'waiting_real_user_reply', completedAt: null },
      );
  }
}

/** A reply by `operatorId`, or by the business outside the desk (null: no operator to bar next time). */
function operatorReply(c: Chat, operatorId: string | null, at: Date): Step {
  const recorded = after(at, c.operatorRepliedAt)
    ? { ...c, lastOperatorId: operatorId ?? c.lastOperatorId, operatorRepliedAt: at }
    : c;
  // Only a reply at least as new as the customer's latest message answers them; an older one
  // (applied late) leaves the chat in the queue.
  const answers = c.lastCustomerMessageAt === null || at.getTime() >= c.lastCustomerMessageAt.getTime();
  if (!answers || c.state === 'completed' || c.state === 'waiting_real_user_reply') return keep(recorded);
  return keep(
    { ...recorded, state: 'waiting_real_user_reply', assigneeId: null, waitingSince: null },
    c.assigneeId ? { released: { operatorId: c.assigneeId, reason: 'replied' } } : {},
  );
}

function assign(c: Chat, operatorId: string, skills: readonly string[]): Step {
  if (c.state !== 'waiting_assignment') return reject(`not_assignable: chat is ${c.state}`);
  const barred = barredBy(c, operatorId);
  if (barred) return reject(barred);
  if (c.queue !== null && !skills.includes(c.queue)) return reject(`wrong_queue: the chat needs ${c.queue}`);
  return keep({ ...c, state: 'assigned', assigneeId: operatorId, idleOperatorId: null }, { assigned: { operatorId } });
}

function complete(c: Chat, reason: string, at: Date, closed: boolean): Step {
  // A completion comes after every message the chat has seen, whichever clock stamped `at`.
  const completedAt = [c.lastCustomerMessageAt, c.operatorRepliedAt].reduce<Date>(
    (m, d) => (d !== null && d > m ? d : m),
    at,
  );
  return keep(
    { ...c, state: 'completed', assigneeId: null, waitingSince: null, completedAt, closed },
    {
      completed: { reason },
      ...(c.assigneeId ? { released: { operatorId: c.assigneeId, reason: 'completed' as const } } : {}),
    },
  );
}

function stuck(c: Chat, e: Extract<ChatEvent, { kind: 'stuck' }>): Step {
  const still =
    c.state === 'waiting_real_user_reply' &&
    c.operatorRepliedAt !== null &&
    !after(c.operatorRepliedAt, e.repliedBefore);
  if (!still) return keep(c);
  if (e.action === 'complete') return complete(c, 'stuck', e.at, false);
  return c.flaggedAt ? keep(c) : keep({ ...c, flaggedAt: e.at }, { flagged: true });
}

/** A stuck flag lasts while the chat waits on the same reply; any move clears it. */
function settle(before: Chat, next: Chat): Chat {
  const same =
    next.state === 'waiting_real_user_reply' &&
    before.state === next.state &&
    sameTime(before.operatorRepliedAt, next.operatorRepliedAt);
  return same || next.flaggedAt === null ? next : { ...next, flaggedAt: null };
}

const sameTime = (a: Date | null, b: Date | null) => (a === null || b === null ? a === b : a.getTime() === b.getTime());

function sameChat(a: Chat, b: Chat): boolean {
  return (Object.keys(a) as Array<keyof Chat>).every((k) => {
    const x = a[k];
    const y = b[k];
    return x instanceof Date || y instanceof Date ? sameTime(x as Date | null, y as Date | null) : x === y;
  });
}

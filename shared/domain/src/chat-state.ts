/**
 * Chat assignment states (seed 004): a chat is `waiting_assignment` (needs an operator,
 * assignable), `assigned` (an operator has it), `waiting_real_user_reply` (an operator answered;
 * the customer's turn; not assignable) or `completed` (the conversation ended).
 *
 *   waiting_assignment → assigned → waiting_real_user_reply → waiting_assignment (customer replies)
 *   any → completed
 */
export const CHAT_STATES = ['waiting_assignment', 'assigned', 'waiting_real_user_reply', 'completed'] as const;
export type ChatState = (typeof CHAT_STATES)[number];

export interface Chat {
  state: ChatState;
  assigneeId: string | null;
  lastOperatorId: string | null;
  operatorRepliedAt: Date | null;
  lastCustomerMessageAt: Date | null;
  /** Since when the customer waits for an operator; the queue's order. */
  waitingSince: Date | null;
}

export type ChatEvent =
  | { kind: 'customer_message'; at: Date }
  | { kind: 'operator_reply'; operatorId: string; at: Date }
  | { kind: 'assign'; operatorId: string; at: Date }
  | { kind: 'release'; reason: string; at: Date }
  | { kind: 'complete'; reason: string; at: Date };

/** What a transition means beyond the new state: an assignment began or ended, the chat completed. */
export interface ChatEffects {
  assigned?: { operatorId: string };
  released?: { operatorId: string; reason: string };
  completed?: { reason: string };
}

export type ChatTransition =
  | { ok: true; chat: Chat; effects: ChatEffects; changed: boolean }
  | { ok: false; reason: string };

const unchanged = (chat: Chat): ChatTransition => ({ ok: true, chat, effects: {}, changed: false });

/** The chat after `e`; `null` is a conversation the queue has not seen yet. Pure. */
export function applyChatEvent(chat: Chat | null, e: ChatEvent): ChatTransition {
  const c: Chat = chat ?? {
    state: 'waiting_assignment',
    assigneeId: null,
    lastOperatorId: null,
    operatorRepliedAt: null,
    lastCustomerMessageAt: null,
    waitingSince: null,
  };
  if (c.state === 'completed') {
    return e.kind === 'assign' || e.kind === 'release' ? { ok: false, reason: 'chat_completed' } : unchanged(c);
  }
  switch (e.kind) {
    case 'customer_message': {
      const next: Chat = { ...c, lastCustomerMessageAt: e.at };
      // The customer spoke: a chat that waited on them becomes assignable again (to anyone).
      if (!chat || c.state === 'waiting_real_user_reply') {
        return {
          ok: true,
          chat: { ...next, state: 'waiting_assignment', waitingSince: e.at },
          effects: {},
          changed: true,
        };
      }
      return { ok: true, chat: next, effects: {}, changed: true };
    }
    case 'operator_reply': {
      const next: Chat = {
        ...c,
        state: 'waiting_real_user_reply',
        assigneeId: null,
        lastOperatorId: e.operatorId,
        operatorRepliedAt: e.at,
        waitingSince: null,
      };
      const effects: ChatEffects = c.assigneeId ? { released: { operatorId: c.assigneeId, reason: 'replied' } } : {};
      return { ok: true, chat: next, effects, changed: true };
    }
    case 'assign':
      if (c.state !== 'waiting_assignment') return { ok: false, reason: `not_assignable: chat is ${c.state}` };
      if (excludedForOperator(c, e.operatorId))
        return { ok: false, reason: 'same_operator: this operator answered last' };
      return {
        ok: true,
        chat: { ...c, state: 'assigned', assigneeId: e.operatorId },
        effects: { assigned: { operatorId: e.operatorId } },
        changed: true,
      };
    case 'release':
      if (c.state !== 'assigned' || !c.assigneeId) return { ok: false, reason: `not_assigned: chat is ${c.state}` };
      // Requeued at its place: the customer has been waiting since before the assignment.
      return {
        ok: true,
        chat: { ...c, state: 'waiting_assignment', assigneeId: null, waitingSince: c.waitingSince ?? e.at },
        effects: { released: { operatorId: c.assigneeId, reason: e.reason } },
        changed: true,
      };
    case 'complete':
      return {
        ok: true,
        chat: { ...c, state: 'completed', assigneeId: null, waitingSince: null },
        effects: {
          completed: { reason: e.reason },
          ...(c.assigneeId ? { released: { operatorId: c.assigneeId, reason: 'completed' } } : {}),
        },
        changed: true,
      };
  }
}

/**
 * The same-operator rule: an operator is never handed the chat it answered last while that chat
 * still waits for the customer, i.e. its reply is newer than the customer's last message (the
 * chat came back to the queue by a release, not by the customer writing).
 */
export function excludedForOperator(c: Chat, operatorId: string): boolean {
  return (
    c.lastOperatorId === operatorId &&
    c.operatorRepliedAt !== null &&
    (c.lastCustomerMessageAt === null || c.operatorRepliedAt >= c.lastCustomerMessageAt)
  );
}

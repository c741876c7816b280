/**
 * Chat assignment states (seed 004): a chat is `waiting_assignment` (the customer waits for an
 * operator; assignable), `assigned` (an operator has it), `waiting_real_user_reply` (an operator
 * answered; the customer's turn; not assignable) or `completed`.
 *
 *   waiting_assignment → assigned → waiting_real_user_reply → waiting_assignment (customer writes)
 *   any → completed; an operator's or the stuck sweep's completion reopens when the customer
 *   writes after it, the conversation closing is final.
 *
 * Message events may be applied out of order (retries, concurrent consumers), so every time only
 * moves forward and the decisions compare the messages' own times: the chat waits for an operator
 * exactly when the customer's latest message is newer than the latest reply, whatever order the
 * two arrived in. The times must all come from one clock (the adapter's choice, see README).
 */
export const CHAT_STATES = ['waiting_assignment', 'assigned', 'waiting_real_user_reply', 'completed'] as const;
export type ChatState = (typeof CHAT_STATES)[number];

export interface Chat {
  state: ChatState;
  assigneeId: string | null;
  lastOperatorId: string | null;
  /** The latest operator reply's time (never moves back). */
  operatorRepliedAt: Date | null;
  /** The latest customer message's time (never moves back). */
  lastCustomerMessageAt: Date | null;
  /** Since when the customer waits for an operator; the queue's order. */
  waitingSince: Date | null;
  /** When the chat completed, while it is completed. */
  completedAt: Date | null;
  /** The conversation closed: final, no message reopens it. */
  closed: boolean;
  /** The operator the chat was released from for idleness: barred until the customer writes again or another operator takes it. */
  idleOperatorId: string | null;
  /** Flagged as stuck (waited on the customer too long); cleared when the chat moves on. */
  flaggedAt: Date | null;
  /** The queue (skill) an operator needs to take the chat; null for anyone. */
  queue: string | null;
}

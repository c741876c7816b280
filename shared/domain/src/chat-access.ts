import type { Chat } from './chat.ts';

/**
 * Why `operatorId` may not take the chat, or null. The same-operator rule: never the chat it
 * answered last while that chat still waits for the customer (its reply is at least as new as the
 * customer's last message, i.e. the chat came back by a release, not by the customer writing).
 * The idle bar: never the chat it was just released from for idleness.
 */
export function barredBy(c: Chat, operatorId: string): string | null {
  const answeredLast =
    c.lastOperatorId === operatorId &&
    c.operatorRepliedAt !== null &&
    (c.lastCustomerMessageAt === null || c.operatorRepliedAt.getTime() >= c.lastCustomerMessageAt.getTime());
  if (answeredLast) return 'same_operator: this operator answered last';
  if (c.idleOperatorId === operatorId) return 'idle_operator: released from this operator for idleness';
  return null;
}

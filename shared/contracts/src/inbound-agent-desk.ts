import { OPERATOR_STATUSES } from '@switchboard/domain';
import { z } from 'zod';

/**
 * Canonical inbound events from the agent desk (the operators' console), published by
 * `services/webhooks` on `switchboard.inbound`. `accountId` names the agent-desk installation,
 * registered as a channel with provider `agent_desk`; the consumer resolves the tenant from it.
 * `deskEventId` is the desk's own id for the delivery, from which the CloudEvents id is derived,
 * so a redelivered webhook is the same event.
 */

const base = {
  provider: z.literal('agent_desk'),
  accountId: z.string().min(1),
  deskEventId: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
};

/** An operator (a human agent) on the desk: the desk's own stable id for that person. */
const operatorId = z.string().min(1).max(200);

export const AgentDeskConversationRequested = z.object({
  ...base,
  /** What the operator asked for: take the conversation, hand it back, or end it. */
  action: z.enum(['assign', 'release', 'close']),
  conversationId: z.uuid(),
  operatorId,
  reason: z.string().max(1000).optional(),
});
export type AgentDeskConversationRequested = z.infer<typeof AgentDeskConversationRequested>;

export const AgentDeskOperatorStatusChanged = z.object({
  ...base,
  operatorId,
  status: z.enum(OPERATOR_STATUSES),
  /** The most chats this operator takes at once, when the desk states it. */
  capacity: z.number().int().min(0).max(1000).optional(),
  /** Queues or skills the operator serves, when the desk states them. */
  skills: z.array(z.string().min(1).max(100)).max(50).optional(),
  displayName: z.string().max(200).optional(),
});
export type AgentDeskOperatorStatusChanged = z.infer<typeof AgentDeskOperatorStatusChanged>;

export const AgentDeskOperatorReplied = z.object({
  ...base,
  conversationId: z.uuid(),
  operatorId,
  /** The desk's id for the reply: unique per tenant, so a re-sent reply is stored once. */
  messageId: z.string().min(1).max(500),
  text: z.string().max(65_536),
});
export type AgentDeskOperatorReplied = z.infer<typeof AgentDeskOperatorReplied>;

export const agentDeskRoutingKeys = {
  conversationRequested: 'agentdesk.conversation.requested',
  operatorStatus: 'agentdesk.operator.status.changed',
  operatorReplied: 'agentdesk.operator.replied',
} as const;

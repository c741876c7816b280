import { CONVERSATION_STATUSES, DELIVERY_STATUSES } from '@switchboard/domain';
import { z } from 'zod';
import { ProviderError } from './inbound.ts';

/**
 * Domain events on `switchboard.events`, for downstream consumers. The routing key is the event
 * name; the CloudEvents type is `switchboard.<routing key>.v1`; the subject is the conversation
 * id. Every schema here is in asyncapi.yaml, and a test holds the two together.
 */

export const ConversationOpened = z.object({
  conversationId: z.uuid(),
  customerId: z.uuid(),
  channelId: z.uuid(),
  provider: z.string(),
  status: z.enum(CONVERSATION_STATUSES),
  openedAt: z.iso.datetime({ offset: true }),
});
export type ConversationOpened = z.infer<typeof ConversationOpened>;

export const MessageReceived = z.object({
  messageId: z.uuid(),
  conversationId: z.uuid(),
  customerId: z.uuid(),
  provider: z.string(),
  providerMessageId: z.string(),
  genesysConversationId: z.string().optional(),
  from: z.string(),
  type: z.string(),
  text: z.string().optional(),
  sentAt: z.iso.datetime({ offset: true }),
  receivedAt: z.iso.datetime({ offset: true }),
});
export type MessageReceived = z.infer<typeof MessageReceived>;

export const MessageStatusChanged = z.object({
  messageId: z.uuid(),
  conversationId: z.uuid(),
  provider: z.string(),
  providerMessageId: z.string(),
  previousStatus: z.enum(DELIVERY_STATUSES).nullable(),
  status: z.enum(DELIVERY_STATUSES),
  at: z.iso.datetime({ offset: true }),
  errors: z.array(ProviderError).optional(),
});
export type MessageStatusChanged = z.infer<typeof MessageStatusChanged>;

export const domainEvents = {
  'conversation.opened': ConversationOpened,
  'message.received': MessageReceived,
  'message.status.changed': MessageStatusChanged,
} as const;
export type DomainEventKey = keyof typeof domainEvents;
export type DomainEventData<K extends DomainEventKey> = z.infer<(typeof domainEvents)[K]>;

export const domainEventType = (key: DomainEventKey) => `switchboard.${key}.v1`;

import { CONVERSATION_STATUSES, DELIVERY_STATUSES } from '@switchboard/domain';
import { z } from 'zod';
import { ChatAssigned, ChatCompleted, ChatReleased } from './chat-events.ts';
import { ProviderError } from './inbound.ts';
import { ConversationStateChanged, LeadStageChanged } from './lead-events.ts';
import { MediaDownloadRequested } from './media-events.ts';
import { ConversationCloseSuggested, ConversationStatusChanged, TicketStatusChanged } from './status-events.ts';

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
  /** The sender's E.164 phone number; for a WhatsApp user without one, their business-scoped user id. */
  from: z.string(),
  /** WhatsApp: the sender's E.164 phone number, when they shared one. */
  phone: z.string().optional(),
  /** WhatsApp: the sender's business-scoped user id, parent-business id and username, each when known. */
  userId: z.string().optional(),
  parentUserId: z.string().optional(),
  username: z.string().optional(),
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

/** Who wrote an outbound message: a contact-centre agent in Genesys, an operator on the agent desk, or automation. */
export const MessageAuthor = z.object({
  kind: z.enum(['agent', 'operator', 'system']),
  id: z.string(),
});
export type MessageAuthor = z.infer<typeof MessageAuthor>;

/** An outbound message was recorded on a conversation (an agent's or operator's reply). */
export const MessageSent = z.object({
  messageId: z.uuid(),
  conversationId: z.uuid(),
  customerId: z.uuid(),
  /** The conversation's channel provider, where the message goes (`whatsapp`, `mailgun`). */
  provider: z.string(),
  /**
   * The system the reply was written in (`genesys`, `agent_desk`, or `business_app` for a message
   * the business sent from the WhatsApp Business app) and its id for the message.
   */
  origin: z.string(),
  originMessageId: z.string(),
  author: MessageAuthor,
  genesysConversationId: z.string().optional(),
  type: z.string(),
  text: z.string().optional(),
  /** When the reply was written, by its origin's clock (the desk's, Genesys's). */
  sentAt: z.iso.datetime({ offset: true }),
  /**
   * When the conversation store recorded it: the clock `message.received`'s `receivedAt` is on, so
   * a consumer can order replies and customer messages without the origins' clock skew. Absent
   * from events written before it was added.
   */
  recordedAt: z.iso.datetime({ offset: true }).optional(),
});
export type MessageSent = z.infer<typeof MessageSent>;

/** For the downstream sender: deliver this message to the customer on their channel. */
export const MessageOutboundRequested = z.object({
  messageId: z.uuid(),
  conversationId: z.uuid(),
  provider: z.string(),
  /**
   * The resolved recipient on `provider`: a WhatsApp `wa_id`, an email address; for a WhatsApp
   * customer without a phone number, their business-scoped user id (then also in `toUserId`).
   */
  to: z.string(),
  /** WhatsApp: the customer's business-scoped user id, when known (Meta's `recipient`). */
  toUserId: z.string().optional(),
  type: z.string(),
  text: z.string().optional(),
  /** Attachments or other provider content the sender passes on. */
  content: z.record(z.string(), z.unknown()).optional(),
  /** Email only: the headers that keep the reply in the customer's thread. */
  email: z
    .object({
      subject: z.string(),
      messageIdHeader: z.string(),
      inReplyTo: z.string().optional(),
      references: z.array(z.string()),
    })
    .optional(),
  requestedAt: z.iso.datetime({ offset: true }),
});
export type MessageOutboundRequested = z.infer<typeof MessageOutboundRequested>;

/** A conversation's agent changed: an agent other than the assigned one took it over. */
export const ConversationTransferred = z.object({
  conversationId: z.uuid(),
  /** The agent before, null when nobody was assigned. */
  previousAgentId: z.string().nullable(),
  agentId: z.string(),
  /** The system the agents work in (`genesys`). */
  origin: z.string(),
  version: z.number().int().positive(),
  at: z.iso.datetime({ offset: true }),
});
export type ConversationTransferred = z.infer<typeof ConversationTransferred>;

/**
 * One customer's WhatsApp identity changed (`user_changed_user_id`, or a message that showed two
 * customers to be one person): the new and previous ids, and the customer merged into this one,
 * if any. The subject is the customer id.
 */
export const CustomerIdentityChanged = z.object({
  customerId: z.uuid(),
  provider: z.string(),
  userId: z.string().optional(),
  previousUserId: z.string().optional(),
  parentUserId: z.string().optional(),
  previousParentUserId: z.string().optional(),
  /** The customers that turned out to be this one: their ids, conversations and messages moved here. */
  mergedCustomerIds: z.array(z.uuid()).optional(),
  /** Its live conversations that were closed because this customer already had one on their channel. */
  closedConversationIds: z.array(z.uuid()).optional(),
  at: z.iso.datetime({ offset: true }),
});
export type CustomerIdentityChanged = z.infer<typeof CustomerIdentityChanged>;

/** A WhatsApp call was recorded on a conversation, or moved on (connect, then terminate). */
export const ConversationCallRecorded = z.object({
  conversationId: z.uuid(),
  customerId: z.uuid(),
  provider: z.string(),
  callId: z.string(),
  event: z.string(),
  direction: z.string(),
  status: z.string().optional(),
  startedAt: z.iso.datetime({ offset: true }).optional(),
  endedAt: z.iso.datetime({ offset: true }).optional(),
  durationSeconds: z.number().int().optional(),
  at: z.iso.datetime({ offset: true }),
});
export type ConversationCallRecorded = z.infer<typeof ConversationCallRecorded>;

/**
 * An account-level WhatsApp webhook (`account_update`, `account_alerts`, template status and
 * quality, `business_capability_update`, …), for downstream, as Meta sent it. The subject is the
 * WhatsApp Business Account id.
 */
export const WhatsAppAccountChanged = z.object({
  field: z.string(),
  businessAccountId: z.string(),
  accountId: z.string().optional(),
  event: z.string().optional(),
  value: z.record(z.string(), z.unknown()),
  receivedAt: z.iso.datetime({ offset: true }),
});
export type WhatsAppAccountChanged = z.infer<typeof WhatsAppAccountChanged>;
/**
 * A customer's personal data was erased (GDPR): downstream services erase what they hold about the
 * customer and its conversations. Written once per customer, with the erasure itself; the ids stay
 * (they identify nobody), the data they pointed to is gone.
 */
export const CustomerErased = z.object({
  customerId: z.uuid(),
  conversationIds: z.array(z.uuid()),
  erasedAt: z.iso.datetime({ offset: true }),
});
export type CustomerErased = z.infer<typeof CustomerErased>;

export const domainEvents = {
  'conversation.opened': ConversationOpened,
  'message.received': MessageReceived,
  'message.status.changed': MessageStatusChanged,
  'message.sent': MessageSent,
  'message.outbound.requested': MessageOutboundRequested,
  'conversation.transferred': ConversationTransferred,
  'conversation.state.changed': ConversationStateChanged,
  'lead.stage.changed': LeadStageChanged,
  'conversation.status.changed': ConversationStatusChanged,
  'ticket.status.changed': TicketStatusChanged,
  'conversation.close.suggested': ConversationCloseSuggested,
  'chat.assigned': ChatAssigned,
  'chat.released': ChatReleased,
  'chat.completed': ChatCompleted,
  'media.download.requested': MediaDownloadRequested,
  'customer.identity.changed': CustomerIdentityChanged,
  'conversation.call.recorded': ConversationCallRecorded,
  'whatsapp.account.changed': WhatsAppAccountChanged,
  'customer.erased': CustomerErased,
} as const;
export type DomainEventKey = keyof typeof domainEvents;
export type DomainEventData<K extends DomainEventKey> = z.infer<(typeof domainEvents)[K]>;

export const domainEventType = (key: DomainEventKey) => `switchboard.${key}.v1`;

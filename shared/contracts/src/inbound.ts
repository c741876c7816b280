import { DELIVERY_STATUSES } from '@switchboard/domain';
import { z } from 'zod';
import {
  WhatsAppContext,
  WhatsAppLocation,
  WhatsAppMedia,
  WhatsAppOrder,
  WhatsAppReaction,
  WhatsAppReferral,
  WhatsAppReply,
  WhatsAppSystem,
} from './inbound-whatsapp.ts';

/**
 * Canonical inbound events: what the HTTP edges publish on `switchboard.inbound` after verifying
 * and normalizing a provider webhook. They carry the provider's account id, not a tenant: the
 * edges are stateless, and the sync-worker resolves the tenant from its channel registry.
 * Evolve by adding optional fields only; messages in a queue outlive a deploy.
 */

export const ProviderError = z.object({
  code: z.union([z.number(), z.string()]).optional(),
  title: z.string().optional(),
  message: z.string().optional(),
  details: z.string().optional(),
});
export type ProviderError = z.infer<typeof ProviderError>;

export const WhatsAppMessageReceived = z.object({
  provider: z.literal('whatsapp'),
  /** Meta's `phone_number_id` of the business number that received the message. */
  accountId: z.string().min(1),
  displayPhoneNumber: z.string().optional(),
  /**
   * The sender's WhatsApp id (`wa_id`), the phone number in international form without `+`.
   * Absent for a user with a username who has not shared a number: `fromUserId` names them.
   */
  from: z.string().min(1).optional(),
  /** The sender's business-scoped user id (`from_user_id`, `contacts[].user_id`), e.g. `US.1349…`. */
  fromUserId: z.string().min(1).optional(),
  /** The sender's id scoped to the parent business (`from_parent_user_id`), when there is one. */
  fromParentUserId: z.string().min(1).optional(),
  /** The sender's WhatsApp username (`contacts[].profile.username`), when they have one. */
  username: z.string().min(1).optional(),
  /** The WhatsApp Business Account (`entry[].id`) the number belongs to. */
  businessAccountId: z.string().min(1).optional(),
  profileName: z.string().optional(),
  /** WhatsApp message id (`wamid.…`), unique per tenant. */
  messageId: z.string().min(1),
  sentAt: z.iso.datetime({ offset: true }),
  type: z.string().min(1),
  /** The readable text: a text body, a media caption, a reply's title, a reaction's emoji. */
  text: z.string().optional(),
  media: WhatsAppMedia.optional(),
  context: WhatsAppContext.optional(),
  reaction: WhatsAppReaction.optional(),
  location: WhatsAppLocation.optional(),
  /** Shared contact cards, as Meta sends them. */
  contacts: z.array(z.record(z.string(), z.unknown())).optional(),
  reply: WhatsAppReply.optional(),
  referral: WhatsAppReferral.optional(),
  order: WhatsAppOrder.optional(),
  system: WhatsAppSystem.optional(),
  /** Why Meta could not deliver the message's content (type `unsupported` or `unknown`). */
  errors: z.array(ProviderError).optional(),
  /** The provider's message object, kept whole so that nothing it said is lost. */
  raw: z.record(z.string(), z.unknown()),
});
export type WhatsAppMessageReceived = z.infer<typeof WhatsAppMessageReceived>;

export const WhatsAppStatusUpdated = z.object({
  provider: z.literal('whatsapp'),
  accountId: z.string().min(1),
  messageId: z.string().min(1),
  recipientId: z.string().optional(),
  /** The recipient's business-scoped user id (`recipient_user_id`), when Meta sends it. */
  recipientUserId: z.string().optional(),
  status: z.enum(DELIVERY_STATUSES),
  at: z.iso.datetime({ offset: true }),
  errors: z.array(ProviderError).optional(),
  /** Meta's conversation (id, origin type, expiry) and pricing (billable, model, category) for the status. */
  conversation: z.record(z.string(), z.unknown()).optional(),
  pricing: z.record(z.string(), z.unknown()).optional(),
  raw: z.record(z.string(), z.unknown()),
});
export type WhatsAppStatusUpdated = z.infer<typeof WhatsAppStatusUpdated>;

/**
 * A correctly signed payload the edge could not normalize: kept for inspection, never retried.
 * `body` is the text of the part (JSON), or of the whole request when it did not parse; bytes that
 * are not UTF-8 travel as base64 (`bodyEncoding`), so a person can replay exactly what was sent.
 */
export const ParkedPayload = z.object({
  provider: z.string(),
  reason: z.string(),
  body: z.string(),
  /** `base64` when `body` encodes the raw bytes; absent means UTF-8 text. */
  bodyEncoding: z.enum(['utf8', 'base64']).optional(),
  /** The request's Content-Type, when the whole raw body was parked. */
  contentType: z.string().max(200).optional(),
});
export type ParkedPayload = z.infer<typeof ParkedPayload>;

export const inboundRoutingKeys = {
  whatsappMessage: 'whatsapp.message.received',
  whatsappStatus: 'whatsapp.status.updated',
  whatsappEcho: 'whatsapp.echo.received',
  whatsappHistory: 'whatsapp.history.received',
  whatsappCall: 'whatsapp.call.updated',
  whatsappAccount: 'whatsapp.account.updated',
} as const;

export const parkedRoutingKey = (provider: string) => `parked.${provider}`;

export const inboundType = (routingKey: string) => `switchboard.inbound.${routingKey}.v1`;

import { z } from 'zod';
import { WhatsAppMessageReceived } from './inbound.ts';

/**
 * What WhatsApp sends beside customers' messages and statuses, for numbers that also use the
 * WhatsApp Business app (message echoes, the onboarding history sync), for calling, and about the
 * account itself. Each is its own inbound event, so a consumer that does not know one never
 * mistakes it for a customer's message.
 */

/** The customer on the other side of a business message: any of these may be missing, not all. */
const Peer = {
  /** The customer's phone number (`to`, a thread's `id`), international form without `+`. */
  to: z.string().min(1).optional(),
  /** The customer's business-scoped user id (`to_user_id`). */
  toUserId: z.string().min(1).optional(),
  toParentUserId: z.string().min(1).optional(),
};

/**
 * A message the business sent from the WhatsApp Business app or a linked device
 * (`smb_message_echoes`): recorded as an outbound message of the customer's conversation.
 */
export const WhatsAppMessageEchoed = WhatsAppMessageReceived.omit({
  from: true,
  fromUserId: true,
  fromParentUserId: true,
}).extend({
  ...Peer,
  /** The business number it was sent from (`from`). */
  from: z.string().min(1).optional(),
});
export type WhatsAppMessageEchoed = z.infer<typeof WhatsAppMessageEchoed>;

/**
 * One message of the chat history Meta shares when a WhatsApp Business app number is onboarded
 * (`history`): in either direction, applied as the past without live effects.
 */
export const WhatsAppHistoryMessage = WhatsAppMessageReceived.omit({
  from: true,
  fromUserId: true,
  fromParentUserId: true,
}).extend({
  ...Peer,
  from: z.string().min(1).optional(),
  /** `inbound` when the customer wrote it, `outbound` when the business did. */
  direction: z.enum(['inbound', 'outbound']),
  /** The delivery status the history reports for it (`history_context.status`), as sent. */
  historyStatus: z.string().optional(),
  /** The history phase (0: day 0–1, 1: up to day 90, 2: up to day 180) and chunk it came in. */
  phase: z.number().int().optional(),
  chunkOrder: z.number().int().optional(),
});
export type WhatsAppHistoryMessage = z.infer<typeof WhatsAppHistoryMessage>;

/** A WhatsApp call's event (`calls`): `connect`, then `terminate` with its outcome and length. */
export const WhatsAppCallUpdated = z.object({
  provider: z.literal('whatsapp'),
  accountId: z.string().min(1),
  businessAccountId: z.string().min(1).optional(),
  /** Meta's call id (`wacid.…`). */
  callId: z.string().min(1),
  event: z.string().min(1),
  /** `USER_INITIATED` or `BUSINESS_INITIATED`, as Meta sends it. */
  direction: z.string().min(1),
  /** The customer: the caller on a user-initiated call, the callee on a business-initiated one. */
  customer: z.object({
    phone: z.string().min(1).optional(),
    userId: z.string().min(1).optional(),
    parentUserId: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    profileName: z.string().optional(),
  }),
  /** Meta's outcome on terminate (`COMPLETED`, `FAILED`). */
  status: z.string().optional(),
  at: z.iso.datetime({ offset: true }),
  startedAt: z.iso.datetime({ offset: true }).optional(),
  endedAt: z.iso.datetime({ offset: true }).optional(),
  durationSeconds: z.number().int().nonnegative().optional(),
  raw: z.record(z.string(), z.unknown()),
});
export type WhatsAppCallUpdated = z.infer<typeof WhatsAppCallUpdated>;

/** The account-level webhook fields Switchboard publishes as they are (and counts by field). */
export const WHATSAPP_ACCOUNT_FIELDS = [
  'account_update',
  'account_alerts',
  'account_review_update',
  'business_capability_update',
  'message_template_status_update',
  'message_template_quality_update',
  'message_template_components_update',
  'template_category_update',
  'phone_number_name_update',
  'phone_number_quality_update',
  'security',
  'user_preferences',
] as const;

/** An account-level change (`account_update`, template status and quality, capabilities, …). */
export const WhatsAppAccountUpdated = z.object({
  provider: z.literal('whatsapp'),
  field: z.enum(WHATSAPP_ACCOUNT_FIELDS),
  /** The WhatsApp Business Account (`entry[].id`). */
  businessAccountId: z.string().min(1),
  /** The business number, when the change names one (`metadata.phone_number_id`). */
  accountId: z.string().min(1).optional(),
  /** The change's `event` (`APPROVED`, `FLAGGED`, `VERIFIED_ACCOUNT`, …), when it has one. */
  event: z.string().optional(),
  /** When the edge received it (account fields carry no timestamp of their own). */
  receivedAt: z.iso.datetime({ offset: true }),
  /** The change's `value`, whole. */
  value: z.record(z.string(), z.unknown()),
});
export type WhatsAppAccountUpdated = z.infer<typeof WhatsAppAccountUpdated>;

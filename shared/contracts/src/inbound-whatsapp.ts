import { z } from 'zod';

/**
 * The parts of a WhatsApp Cloud API message that the edge lifts out of the provider's object into
 * typed fields (the whole object still travels in `raw`). Each is optional: a message carries the
 * part its `type` names, plus `context` and `referral` when Meta sends them.
 */

/** An image, audio (voice notes have `voice: true`), video, document or sticker: Meta holds the bytes under `id`. */
export const WhatsAppMedia = z.object({
  kind: z.enum(['image', 'audio', 'video', 'document', 'sticker']),
  id: z.string().min(1),
  mimeType: z.string().optional(),
  sha256: z.string().optional(),
  caption: z.string().optional(),
  filename: z.string().optional(),
  voice: z.boolean().optional(),
  animated: z.boolean().optional(),
});
export type WhatsAppMedia = z.infer<typeof WhatsAppMedia>;

/** What a message answers or forwards: the quoted message, or forwarding flags, or a product enquiry. */
export const WhatsAppContext = z.object({
  messageId: z.string().optional(),
  from: z.string().optional(),
  forwarded: z.boolean().optional(),
  frequentlyForwarded: z.boolean().optional(),
  referredProduct: z.object({ catalogId: z.string(), productRetailerId: z.string() }).optional(),
});
export type WhatsAppContext = z.infer<typeof WhatsAppContext>;

/** A reaction to `messageId`; no emoji means the customer removed their reaction. */
export const WhatsAppReaction = z.object({ messageId: z.string().min(1), emoji: z.string().optional() });
export type WhatsAppReaction = z.infer<typeof WhatsAppReaction>;

export const WhatsAppLocation = z.object({
  latitude: z.number(),
  longitude: z.number(),
  name: z.string().optional(),
  address: z.string().optional(),
  url: z.string().optional(),
});
export type WhatsAppLocation = z.infer<typeof WhatsAppLocation>;

/** A reply to an interactive message (button or list) or to a template's quick-reply button. */
export const WhatsAppReply = z.object({
  kind: z.enum(['button_reply', 'list_reply', 'nfm_reply', 'quick_reply']),
  id: z.string().optional(),
  title: z.string().optional(),
  description: z.string().optional(),
});
export type WhatsAppReply = z.infer<typeof WhatsAppReply>;

/** A click-to-WhatsApp ad or post the customer came from. */
export const WhatsAppReferral = z.object({
  sourceUrl: z.string().optional(),
  sourceType: z.string().optional(),
  sourceId: z.string().optional(),
  headline: z.string().optional(),
  body: z.string().optional(),
  ctwaClid: z.string().optional(),
});
export type WhatsAppReferral = z.infer<typeof WhatsAppReferral>;

export const WhatsAppOrder = z.object({
  catalogId: z.string(),
  text: z.string().optional(),
  items: z.array(
    z.object({
      productRetailerId: z.string(),
      quantity: z.number(),
      itemPrice: z.number().optional(),
      currency: z.string().optional(),
    }),
  ),
});
export type WhatsAppOrder = z.infer<typeof WhatsAppOrder>;

/**
 * A system message: the customer changed their number (`customer_changed_number`,
 * `user_changed_number`) or their business-scoped user id (`user_changed_user_id`, which names the
 * previous and the new id and no phone number).
 */
export const WhatsAppSystem = z.object({
  type: z.string().optional(),
  body: z.string().optional(),
  newWaId: z.string().optional(),
  /** The business-scoped user id the person has now (`system.user_id`). */
  userId: z.string().optional(),
  /** The id they had before (`system.previous_user_id`). */
  previousUserId: z.string().optional(),
  parentUserId: z.string().optional(),
  previousParentUserId: z.string().optional(),
});
export type WhatsAppSystem = z.infer<typeof WhatsAppSystem>;

import { z } from 'zod';

/**
 * Canonical inbound events from Mailgun, published by `services/ingest` on `switchboard.inbound`.
 * `accountId` is the Mailgun domain (the receiving domain of an inbound email, the sending domain
 * of an event), registered as a channel with provider `mailgun`. Message ids are stored without
 * their angle brackets.
 */

export const EmailAttachment = z.object({
  filename: z.string().optional(),
  contentType: z.string(),
  size: z.number().int().nonnegative(),
  contentId: z.string().optional(),
});
export type EmailAttachment = z.infer<typeof EmailAttachment>;

export const MailgunEmailReceived = z.object({
  provider: z.literal('mailgun'),
  accountId: z.string().min(1),
  /** The envelope recipient (the address the route matched). */
  recipient: z.string().min(1),
  /** The author's address (From), lower-cased. */
  from: z.string().min(1),
  fromName: z.string().optional(),
  subject: z.string().optional(),
  /** The Message-ID header without brackets; derived from the content when the sender left it out. */
  messageId: z.string().min(1),
  inReplyTo: z.array(z.string()),
  references: z.array(z.string()),
  text: z.string().optional(),
  /** The reply without quoted text and signature, as Mailgun extracts it. */
  strippedText: z.string().optional(),
  html: z.string().optional(),
  attachments: z.array(EmailAttachment),
  sentAt: z.iso.datetime({ offset: true }),
  /** Where the edge took the message from: Mailgun's parsed fields or the raw MIME. */
  format: z.enum(['fields', 'mime']),
});
export type MailgunEmailReceived = z.infer<typeof MailgunEmailReceived>;

export const MAILGUN_EVENTS = [
  'accepted',
  'delivered',
  'opened',
  'clicked',
  'failed',
  'complained',
  'unsubscribed',
] as const;
export type MailgunEventName = (typeof MAILGUN_EVENTS)[number];

export const MailgunEventReceived = z.object({
  provider: z.literal('mailgun'),
  accountId: z.string().min(1),
  /** Mailgun's id of the event (`event-data.id`). */
  mailgunEventId: z.string().min(1),
  event: z.enum(MAILGUN_EVENTS),
  /** `failed` only: `temporary` (Mailgun retries) or `permanent`. */
  severity: z.enum(['temporary', 'permanent']).optional(),
  reason: z.string().optional(),
  recipient: z.string().min(1),
  /** The Message-ID of the email the event is about (one we sent), without brackets. */
  messageId: z.string().min(1),
  from: z.string().optional(),
  subject: z.string().optional(),
  url: z.string().optional(),
  deliveryStatus: z
    .object({
      code: z.number().int().optional(),
      message: z.string().optional(),
      description: z.string().optional(),
    })
    .optional(),
  at: z.iso.datetime({ offset: true }),
  raw: z.record(z.string(), z.unknown()),
});
export type MailgunEventReceived = z.infer<typeof MailgunEventReceived>;

export const mailgunRoutingKeys = {
  email: 'mailgun.email.received',
  event: 'mailgun.event.received',
} as const;

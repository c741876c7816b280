import { MAILGUN_EVENTS, type MailgunEventReceived } from '@switchboard/contracts';
import { parseMessageIds } from '@switchboard/domain';
import { z } from 'zod';
import { domainOf, type Normalized, opt, parseAddress } from './mailgun.ts';
import { isoFromUnixSeconds } from './time.ts';

/**
 * A Mailgun tracking webhook's `event-data` → an event about an email we sent. Unknown kinds and
 * payloads without the ids we need are reported with a reason, for parking.
 */

const EventData = z.looseObject({
  id: z.string().min(1),
  event: z.string(),
  timestamp: z
    .number()
    .refine((s) => isoFromUnixSeconds(s) !== undefined, 'timestamp is out of the representable range'),
  severity: z.enum(['temporary', 'permanent']).optional(),
  reason: z.string().optional(),
  recipient: z.string().min(1),
  url: z.string().optional(),
  envelope: z.looseObject({ sender: z.string().optional() }).optional(),
  storage: z.looseObject({ url: z.string().optional() }).optional(),
  message: z.looseObject({
    headers: z.looseObject({
      'message-id': z.string().min(1),
      from: z.string().optional(),
      subject: z.string().optional(),
    }),
  }),
  'delivery-status': z
    .looseObject({
      code: z.number().int().optional(),
      message: z.string().optional(),
      description: z.string().optional(),
    })
    .optional(),
});

const record = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const text = (v: unknown) => (typeof v === 'string' ? v : undefined);

/**
 * The Mailgun channel an event belongs to: our sending domain, from the envelope sender, From,
 * the storage URL, or Mailgun's Message-ID domain, in that order. Read from the unverified
 * `event-data` as it is, so the route can pick the channel's signing key before validating
 * anything; the normalizer names the same account in the event (the sync-worker resolves the
 * tenant by it).
 */
export function mailgunEventAccount(eventData: unknown): string | undefined {
  const e = record(eventData);
  const headers = record(record(e?.message)?.headers);
  return (
    domainOf(parseAddress(text(record(e?.envelope)?.sender))?.address) ??
    domainOf(parseAddress(text(headers?.from))?.address) ??
    /\/domains\/([^/]+)\//.exec(text(record(e?.storage)?.url) ?? '')?.[1]?.toLowerCase() ??
    domainOf(parseMessageIds(text(headers?.['message-id']))[0])
  );
}

/** `event-data` of a tracking webhook → an event about an email we sent. */
export function normalizeMailgunEvent(eventData: unknown): Normalized<MailgunEventReceived> {
  const parsed = EventData.safeParse(eventData);
  if (!parsed.success)
    return { ok: false, reason: `event-data: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}` };
  const e = parsed.data;
  const event = MAILGUN_EVENTS.find((n) => n === e.event);
  if (!event) return { ok: false, reason: `unsupported event ${JSON.stringify(e.event)}` };
  const accountId = mailgunEventAccount(e);
  const messageId = parseMessageIds(e.message.headers['message-id'])[0];
  if (!accountId) return { ok: false, reason: 'no sending domain' };
  if (!messageId) return { ok: false, reason: 'no message-id' };
  const ds = e['delivery-status'];
  return {
    ok: true,
    data: {
      provider: 'mailgun',
      accountId,
      mailgunEventId: e.id,
      event,
      ...opt('severity', e.severity),
      ...opt('reason', e.reason),
      recipient: parseAddress(e.recipient)?.address ?? e.recipient,
      messageId,
      ...opt('from', e.message.headers.from),
      ...opt('subject', e.message.headers.subject),
      ...opt('url', e.url),
      ...(ds
        ? {
            deliveryStatus: {
              ...opt('code', ds.code),
              ...opt('message', ds.message),
              ...opt('description', ds.description),
            },
          }
        : {}),
      at: isoFromUnixSeconds(e.timestamp) as string,
      raw: e,
    },
  };
}

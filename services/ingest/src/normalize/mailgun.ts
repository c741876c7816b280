import { createHash } from 'node:crypto';
import type { EmailAttachment, MailgunEmailReceived } from '@switchboard/contracts';
import { decodeEncodedWords, parseMessageIds } from '@switchboard/domain';
import { simpleParser } from 'mailparser';
import { z } from 'zod';
import { isoFromUnixSeconds } from './time.ts';

/**
 * Mailgun inbound email → canonical inbound event. An email arrives as the fields of a route's
 * forward() (multipart or urlencoded) or as raw MIME (`body-mime`, parsed with mailparser). What
 * cannot be normalized is reported with a reason, for parking. Tracking events: `mailgun-event.ts`.
 */

export type Normalized<T> = { ok: true; data: T } | { ok: false; reason: string };

export interface MailgunForm {
  /** First value of each field; names are matched case-insensitively. */
  fields: Map<string, string>;
  attachments: EmailAttachment[];
}

const field = (form: MailgunForm, name: string) => form.fields.get(name.toLowerCase());

/** `"Name" <a@b>` → address (lower-cased) and name. */
export function parseAddress(value: string | undefined): { address: string; name?: string } | null {
  if (!value) return null;
  const bracket = /^\s*(?:"?([^"<]*?)"?\s*)?<([^<>\s]+@[^<>\s]+)>/.exec(value);
  if (bracket?.[2]) {
    const name = decodeEncodedWords(bracket[1]?.trim() ?? '');
    return { address: bracket[2].toLowerCase(), ...(name ? { name } : {}) };
  }
  const bare = /[^\s<>,;"]+@[^\s<>,;"]+/.exec(value);
  return bare ? { address: bare[0].toLowerCase() } : null;
}

export const domainOf = (address: string | undefined) => {
  const at = address?.lastIndexOf('@') ?? -1;
  return address && at > 0 ? address.slice(at + 1).toLowerCase() : undefined;
};

/** `message-headers` is a JSON list of [name, value] pairs. */
function headerList(form: MailgunForm): Array<[string, string]> {
  const raw = field(form, 'message-headers');
  if (!raw) return [];
  try {
    const parsed = z.array(z.tuple([z.string(), z.string()])).safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/** A stable id for an email that came without a Message-ID, so a re-sent forward is the same email. */
const derivedMessageId = (parts: Array<string | undefined>, domain: string) =>
  `derived-${createHash('sha256')
    .update(parts.map((p) => p ?? '').join('\u001f'))
    .digest('hex')
    .slice(0, 32)}@${domain}`;

const isoDate = (value: string | Date | undefined, fallbackSeconds: string | undefined) => {
  const d = value instanceof Date ? value : value ? new Date(value) : undefined;
  if (d && !Number.isNaN(d.getTime())) return d.toISOString();
  return (
    (Number(fallbackSeconds) > 0 ? isoFromUnixSeconds(fallbackSeconds as string) : undefined) ??
    new Date().toISOString()
  );
};

export const opt = <K extends string, V>(key: K, value: V | undefined | null) =>
  (value === undefined || value === null || value === '' ? {} : { [key]: value }) as Partial<Record<K, V>>;

const namedRecipient = (form: MailgunForm) => parseAddress(field(form, 'recipient'))?.address;

/** The first To address of raw MIME, from its header block alone (the body is not parsed). */
async function mimeTo(mime: string): Promise<string | undefined> {
  const end = mime.search(/\r?\n\r?\n/);
  const parsed = await simpleParser(end < 0 ? mime : mime.slice(0, end), { skipHtmlToText: true });
  const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
  return to?.value[0]?.address?.toLowerCase();
}

/** The address a forward was sent to: Mailgun's `recipient` field, else (raw MIME) the first To. */
async function inboundRecipient(form: MailgunForm): Promise<string | undefined> {
  const named = namedRecipient(form);
  const mime = field(form, 'body-mime');
  return named ?? (mime ? mimeTo(mime) : undefined);
}

/**
 * The Mailgun channel a forward belongs to: the recipient's domain. The route picks the signing
 * key by it before anything else is parsed, and the normalizers use the same function, so the
 * account that verified the request is the account its event names.
 */
export async function mailgunInboundAccount(form: MailgunForm): Promise<string | undefined> {
  return domainOf(await inboundRecipient(form));
}

/** The fields of a forward() → an inbound email event. */
export function normalizeMailgunFields(form: MailgunForm): Normalized<MailgunEmailReceived> {
  const headers = headerList(form);
  const header = (name: string) =>
    field(form, name) ?? headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
  const recipient = namedRecipient(form);
  const accountId = domainOf(recipient);
  const from = parseAddress(field(form, 'from') ?? header('From')) ?? parseAddress(field(form, 'sender'));
  if (!recipient || !accountId) return { ok: false, reason: 'no recipient address' };
  if (!from) return { ok: false, reason: 'no sender address' };
  const subject = decodeEncodedWords(field(form, 'subject') ?? header('Subject') ?? '');
  const text = field(form, 'body-plain');
  const date = header('Date');
  const messageId =
    parseMessageIds(header('Message-Id'))[0] ?? derivedMessageId([from.address, subject, date, text], accountId);
  return {
    ok: true,
    data: {
      provider: 'mailgun',
      accountId,
      recipient,
      from: from.address,
      ...opt('fromName', from.name),
      ...opt('subject', subject),
      messageId,
      inReplyTo: parseMessageIds(header('In-Reply-To')),
      references: parseMessageIds(header('References')),
      ...opt('text', text),
      ...opt('strippedText', field(form, 'stripped-text')),
      ...opt('html', field(form, 'body-html')),
      attachments: form.attachments,
      sentAt: isoDate(date, field(form, 'timestamp')),
      format: 'fields',
    },
  };
}

/** `body-mime` (a forward to a URL ending in mime) → an inbound email event. */
export async function normalizeMailgunMime(form: MailgunForm): Promise<Normalized<MailgunEmailReceived>> {
  const mime = field(form, 'body-mime');
  if (!mime) return { ok: false, reason: 'no body-mime' };
  const parsed = await simpleParser(mime, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  const recipient = await inboundRecipient(form);
  const accountId = domainOf(recipient);
  const author = parsed.from?.value[0];
  const from = author?.address
    ? { address: author.address.toLowerCase(), name: author.name }
    : parseAddress(field(form, 'sender'));
  if (!recipient || !accountId) return { ok: false, reason: 'no recipient address' };
  if (!from) return { ok: false, reason: 'no sender address' };
  const text = parsed.text;
  const messageId =
    parseMessageIds(parsed.messageId)[0] ?? derivedMessageId([from.address, parsed.subject, mime], accountId);
  return {
    ok: true,
    data: {
      provider: 'mailgun',
      accountId,
      recipient,
      from: from.address,
      ...opt('fromName', from.name),
      ...opt('subject', parsed.subject),
      messageId,
      inReplyTo: parseMessageIds(parsed.inReplyTo),
      references: parseMessageIds(parsed.references),
      ...opt('text', text),
      ...opt('html', typeof parsed.html === 'string' ? parsed.html : undefined),
      attachments: parsed.attachments.map((a) => ({
        contentType: a.contentType,
        size: a.size,
        ...opt('filename', a.filename),
        ...opt('contentId', a.contentId),
      })),
      sentAt: isoDate(parsed.date, field(form, 'timestamp')),
      format: 'mime',
    },
  };
}

import {
  createEvent,
  errorCodeParts,
  eventId,
  inboundRoutingKeys,
  inboundType,
  type WhatsAppMessageReceived,
  type WhatsAppStatusUpdated,
} from '@switchboard/contracts';
import { z } from 'zod';
import { isoFromUnixSeconds } from './time.ts';
import {
  type ChangeContext,
  contactOf,
  isAccountChange,
  normalizeAccountChange,
  normalizeCalls,
  normalizeEchoes,
  normalizeHistory,
} from './whatsapp-business.ts';
import { Contact, type Normalized } from './whatsapp-common.ts';
import { messageParts, providerErrors } from './whatsapp-parts.ts';

/**
 * WhatsApp Cloud API webhook → canonical inbound events. The events are built from values this
 * module's own schemas already checked and typed as the contract; the unit tests parse them with
 * the contract's schemas, so the edge does not validate everything twice on the hot path. Only the envelope (entry → changes →
 * value) is required; every message and status is checked on its own, so one item we do not
 * understand is parked without losing its neighbours. Unknown fields pass through in `raw`.
 */

/** A `phone_number_id` is a Graph API id (digits); anything this long is not one. */
const MAX_ACCOUNT_ID_LENGTH = 64;

const Change = z.looseObject({
  field: z.string(),
  value: z.looseObject({
    metadata: z
      .looseObject({
        // Longer ids are never looked up (`whatsappAccounts`), so they must not yield events either.
        phone_number_id: z.string().min(1).max(MAX_ACCOUNT_ID_LENGTH),
        display_phone_number: z.string().optional(),
      })
      .optional(),
    contacts: z.array(Contact).optional(),
    messages: z.array(z.unknown()).optional(),
    statuses: z.array(z.unknown()).optional(),
    message_echoes: z.array(z.unknown()).optional(),
    history: z.array(z.unknown()).optional(),
    calls: z.array(z.unknown()).optional(),
    errors: z.array(z.unknown()).optional(),
  }),
});

const Payload = z.looseObject({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(z.looseObject({ id: z.string().optional(), changes: z.array(z.unknown()) })).min(1),
});

/** Unix seconds as digits, and a time a Date can hold (see `isoFromUnixSeconds`). */
const unixSeconds = z
  .string()
  .regex(/^\d+$/)
  .refine((s) => isoFromUnixSeconds(s) !== undefined, 'timestamp is out of the representable range');

/**
 * A customer's message names its sender by phone (`from`), by business-scoped user id
 * (`from_user_id`, the only id of a user with a username who has not shared a number), or both; a
 * `user_changed_user_id` notice by the ids in its `system` part.
 */
const Message = z
  .looseObject({
    from: z.string().min(1).optional(),
    from_user_id: z.string().min(1).optional(),
    from_parent_user_id: z.string().min(1).optional(),
    id: z.string().min(1),
    timestamp: unixSeconds,
    type: z.string().min(1),
    system: z.looseObject({ user_id: z.string().min(1).optional() }).optional(),
  })
  .refine((m) => m.from || m.from_user_id || m.system?.user_id, 'names no sender (from, from_user_id)');

const Status = z.looseObject({
  id: z.string().min(1),
  status: z.enum(['sent', 'delivered', 'read', 'failed']),
  timestamp: unixSeconds,
  recipient_id: z.string().optional(),
  recipient_user_id: z.string().optional(),
  errors: z.array(z.unknown()).optional(),
  conversation: z.record(z.string(), z.unknown()).optional(),
  pricing: z.record(z.string(), z.unknown()).optional(),
});

const SOURCE = '/switchboard/ingest/whatsapp';
const fromUnix = (s: string) => new Date(Number(s) * 1000);

/** The `field`s whose changes carry customers' messages, statuses, echoes, history or calls. */
const CHANGE_FIELDS = new Set(['messages', 'smb_message_echoes', 'history', 'calls']);

/** The sender's ids: the message's own, else its contact's (Meta puts them in both). */
function senderOf(
  m: { from?: string | undefined; from_user_id?: string | undefined; from_parent_user_id?: string | undefined },
  contact: Contact | undefined,
) {
  const userId = m.from_user_id ?? contact?.user_id;
  const parentUserId = m.from_parent_user_id ?? contact?.parent_user_id;
  const username = contact?.profile?.username;
  return {
    ...(m.from ? { from: m.from } : {}),
    ...(userId ? { fromUserId: userId } : {}),
    ...(parentUserId ? { fromParentUserId: parentUserId } : {}),
    ...(username ? { username } : {}),
  };
}

export function normalizeWhatsApp(payload: unknown, receivedAt: Date = new Date()): Normalized {
  const out: Normalized = { events: [], parked: [] };
  const parsed = Payload.safeParse(payload);
  if (!parsed.success) {
    out.parked.push({ reason: `not a WhatsApp Business webhook: ${z.prettifyError(parsed.error)}`, fragment: payload });
    return out;
  }
  for (const entry of parsed.data.entry) {
    for (const rawChange of entry.changes) {
      if (isAccountChange(rawChange)) {
        normalizeAccountChange(entry.id, rawChange, receivedAt, out);
        continue;
      }
      const change = Change.safeParse(rawChange);
      if (!change.success || !CHANGE_FIELDS.has(change.data.field) || !change.data.value.metadata) {
        out.parked.push({ reason: 'unsupported change (field or metadata)', fragment: rawChange });
        continue;
      }
      const { value } = change.data;
      const at: ChangeContext = {
        accountId: value.metadata?.phone_number_id as string,
        display: value.metadata?.display_phone_number,
        businessAccountId: entry.id,
        contacts: value.contacts ?? [],
      };
      normalizeEchoes(at, value.message_echoes, out);
      normalizeHistory(at, value.history, out);
      normalizeCalls(at, value.calls, out);
      const { accountId, display } = at;
      // Errors about the whole value (not one message): nothing to store, but never dropped.
      if (value.errors?.length) {
        const codes = (providerErrors(value.errors) ?? []).map((e) => e.code ?? e.title).join(', ');
        out.parked.push({ reason: `provider_errors: WhatsApp reported errors (${codes})`, fragment: rawChange });
      }
      for (const raw of value.messages ?? []) {
        const m = Message.safeParse(raw);
        if (!m.success) {
          out.parked.push({ reason: `malformed message: ${z.prettifyError(m.error)}`, fragment: raw });
          continue;
        }
        const contact = contactOf(at.contacts, m.data.from, m.data.from_user_id);
        const data: WhatsAppMessageReceived = {
          provider: 'whatsapp',
          accountId,
          ...(display ? { displayPhoneNumber: display } : {}),
          ...(entry.id ? { businessAccountId: entry.id } : {}),
          ...senderOf(m.data, contact),
          ...(contact?.profile?.name ? { profileName: contact.profile.name } : {}),
          messageId: m.data.id,
          sentAt: fromUnix(m.data.timestamp).toISOString(),
          type: m.data.type,
          ...messageParts(m.data.type, m.data),
          raw: m.data,
        };
        out.events.push({
          routingKey: inboundRoutingKeys.whatsappMessage,
          event: createEvent({
            id: eventId('whatsapp', 'message', accountId, m.data.id),
            source: SOURCE,
            type: inboundType(inboundRoutingKeys.whatsappMessage),
            subject: m.data.id,
            time: fromUnix(m.data.timestamp),
            data,
          }),
        });
      }
      for (const raw of value.statuses ?? []) {
        const s = Status.safeParse(raw);
        if (!s.success) {
          out.parked.push({ reason: `malformed status: ${z.prettifyError(s.error)}`, fragment: raw });
          continue;
        }
        const errors = providerErrors(s.data.errors);
        const data: WhatsAppStatusUpdated = {
          provider: 'whatsapp',
          accountId,
          messageId: s.data.id,
          ...(s.data.recipient_id ? { recipientId: s.data.recipient_id } : {}),
          ...(s.data.recipient_user_id ? { recipientUserId: s.data.recipient_user_id } : {}),
          status: s.data.status,
          at: fromUnix(s.data.timestamp).toISOString(),
          ...(errors ? { errors } : {}),
          ...(s.data.conversation ? { conversation: s.data.conversation } : {}),
          ...(s.data.pricing ? { pricing: s.data.pricing } : {}),
          raw: s.data,
        };
        out.events.push({
          routingKey: inboundRoutingKeys.whatsappStatus,
          event: createEvent({
            id: eventId('whatsapp', 'status', accountId, s.data.id, s.data.status, ...errorCodeParts(errors)),
            source: SOURCE,
            type: inboundType(inboundRoutingKeys.whatsappStatus),
            subject: s.data.id,
            time: fromUnix(s.data.timestamp),
            data,
          }),
        });
      }
    }
  }
  return out;
}

/**
 * How many distinct business numbers one webhook may name. Meta posts one change per notification
 * and every change names one number (each example in its payload documentation has one entry with
 * one change); a batch can group several numbers only for an app that serves several. Each number
 * costs a secret lookup before anything is verified, so this is also the most one unauthenticated
 * request can make the edge ask the channel registry: 20 leaves an app with many numbers room,
 * and a body naming more is checked with the app secret alone (and parked if it matches).
 */
export const MAX_ACCOUNTS_PER_WEBHOOK = 20;

/**
 * The business numbers (`phone_number_id`) an unverified body names, to pick the secrets that
 * verify it. Collects at most `MAX_ACCOUNTS_PER_WEBHOOK + 1`, enough to tell there are too many.
 */
export function whatsappAccounts(body: unknown): string[] {
  const ids = new Set<string>();
  const entries = (body as { entry?: unknown })?.entry;
  for (const entry of Array.isArray(entries) ? entries : []) {
    const changes = (entry as { changes?: unknown })?.changes;
    for (const change of Array.isArray(changes) ? changes : []) {
      const id = (change as { value?: { metadata?: { phone_number_id?: unknown } } })?.value?.metadata?.phone_number_id;
      if (typeof id === 'string' && id.length > 0 && id.length <= MAX_ACCOUNT_ID_LENGTH) ids.add(id);
      if (ids.size > MAX_ACCOUNTS_PER_WEBHOOK) return [...ids];
    }
  }
  return [...ids];
}

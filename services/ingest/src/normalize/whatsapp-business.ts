import {
  createEvent,
  eventId,
  inboundRoutingKeys,
  inboundType,
  WHATSAPP_ACCOUNT_FIELDS,
  type WhatsAppAccountUpdated,
  type WhatsAppCallUpdated,
  type WhatsAppHistoryMessage,
  type WhatsAppMessageEchoed,
} from '@switchboard/contracts';
import { z } from 'zod';
import { isoFromUnixSeconds } from './time.ts';
import type { Contact, Normalized } from './whatsapp-common.ts';
import { messageParts } from './whatsapp-parts.ts';

/**
 * The WhatsApp webhook fields beside customers' messages and statuses: message echoes
 * (`smb_message_echoes`), the onboarding history sync (`history`), calls (`calls`), and the
 * account-level fields (`account_update`, template status and quality, …). Each item is checked
 * on its own, as messages are: one we do not understand is parked without losing its neighbours.
 */

const SOURCE = '/switchboard/ingest/whatsapp';
const fromUnix = (s: string) => new Date(Number(s) * 1000);
const unixSeconds = z
  .string()
  .regex(/^\d+$/)
  .refine((s) => isoFromUnixSeconds(s) !== undefined, 'timestamp is out of the representable range');
const id = z.string().min(1);

/** What every item of one change shares: the business number, its WABA, the change's contacts. */
export interface ChangeContext {
  accountId: string;
  display: string | undefined;
  businessAccountId: string | undefined;
  contacts: Contact[];
}

/** The contact a message is about: by phone, else by user id, else the change's only one. */
export const contactOf = (contacts: Contact[], phone?: string, userId?: string): Contact | undefined =>
  contacts.find((c) => (phone && c.wa_id === phone) || (userId && c.user_id === userId)) ??
  (contacts.length === 1 ? contacts[0] : undefined);

const common = (at: ChangeContext) => ({
  provider: 'whatsapp' as const,
  accountId: at.accountId,
  ...(at.display ? { displayPhoneNumber: at.display } : {}),
  ...(at.businessAccountId ? { businessAccountId: at.businessAccountId } : {}),
});

/** The customer a business message went to: by phone (`to`) or user id (`to_user_id`), or both. */
function peerOf(at: ChangeContext, to: string | undefined, toUserId: string | undefined, toParent: string | undefined) {
  const contact = contactOf(at.contacts, to, toUserId);
  const userId = toUserId ?? contact?.user_id;
  const parent = toParent ?? contact?.parent_user_id;
  const username = contact?.profile?.username;
  return {
    ...(to ? { to } : {}),
    ...(userId ? { toUserId: userId } : {}),
    ...(parent ? { toParentUserId: parent } : {}),
    ...(username ? { username } : {}),
    ...(contact?.profile?.name ? { profileName: contact.profile.name } : {}),
  };
}

const Echo = z
  .looseObject({
    from: id.optional(),
    to: id.optional(),
    to_user_id: id.optional(),
    to_parent_user_id: id.optional(),
    id,
    timestamp: unixSeconds,
    type: id,
  })
  .refine((e) => e.to || e.to_user_id, 'names no customer (to, to_user_id)');

/** Messages the business sent from the WhatsApp Business app: outbound, on the customer's conversation. */
export function normalizeEchoes(at: ChangeContext, items: unknown[] | undefined, out: Normalized): void {
  for (const raw of items ?? []) {
    const e = Echo.safeParse(raw);
    if (!e.success) {
      out.parked.push({ reason: `malformed message echo: ${z.prettifyError(e.error)}`, fragment: raw });
      continue;
    }
    const m = e.data;
    const data: WhatsAppMessageEchoed = {
      ...common(at),
      ...(m.from ? { from: m.from } : {}),
      ...peerOf(at, m.to, m.to_user_id, m.to_parent_user_id),
      messageId: m.id,
      sentAt: fromUnix(m.timestamp).toISOString(),
      type: m.type,
      ...messageParts(m.type, m),
      raw: m,
    };
    push(
      out,
      inboundRoutingKeys.whatsappEcho,
      eventId('whatsapp', 'echo', at.accountId, m.id),
      m.id,
      m.timestamp,
      data,
    );
  }
}

const HistoryMessage = z.looseObject({
  from: id.optional(),
  to: id.optional(),
  from_user_id: id.optional(),
  to_user_id: id.optional(),
  id,
  timestamp: unixSeconds,
  type: id,
  history_context: z.looseObject({ status: z.string().optional() }).optional(),
});
const HistoryChunk = z.looseObject({
  metadata: z
    .looseObject({ phase: z.coerce.number().int().optional(), chunk_order: z.coerce.number().int().optional() })
    .optional(),
  threads: z.array(z.looseObject({ id, messages: z.array(z.unknown()).optional() })).optional(),
});

/**
 * The chat history of a number onboarded from the WhatsApp Business app, one event per message. A
 * thread's `id` is the customer (their number, or their user id when they have none); a message
 * from the thread's customer is inbound, any other outbound.
 */
export function normalizeHistory(at: ChangeContext, chunks: unknown[] | undefined, out: Normalized): void {
  for (const rawChunk of chunks ?? []) {
    const chunk = HistoryChunk.safeParse(rawChunk);
    if (!chunk.success) {
      out.parked.push({ reason: `malformed history chunk: ${z.prettifyError(chunk.error)}`, fragment: rawChunk });
      continue;
    }
    const { phase, chunk_order: chunkOrder } = chunk.data.metadata ?? {};
    for (const thread of chunk.data.threads ?? []) {
      const byPhone = /^\+?\d+$/.test(thread.id);
      for (const raw of thread.messages ?? []) {
        const h = HistoryMessage.safeParse(raw);
        if (!h.success) {
          out.parked.push({ reason: `malformed history message: ${z.prettifyError(h.error)}`, fragment: raw });
          continue;
        }
        const m = h.data;
        const inbound = m.from === thread.id || (m.from_user_id !== undefined && m.from_user_id === thread.id);
        const data: WhatsAppHistoryMessage = {
          ...common(at),
          ...(m.from ? { from: m.from } : {}),
          ...peerOf(
            at,
            byPhone ? thread.id : undefined,
            byPhone ? (inbound ? m.from_user_id : m.to_user_id) : thread.id,
            undefined,
          ),
          direction: inbound ? 'inbound' : 'outbound',
          ...(m.history_context?.status ? { historyStatus: m.history_context.status } : {}),
          ...(phase === undefined ? {} : { phase }),
          ...(chunkOrder === undefined ? {} : { chunkOrder }),
          messageId: m.id,
          sentAt: fromUnix(m.timestamp).toISOString(),
          type: m.type,
          ...messageParts(m.type, m),
          raw: m,
        };
        const eid = eventId('whatsapp', 'history', at.accountId, m.id);
        push(out, inboundRoutingKeys.whatsappHistory, eid, m.id, m.timestamp, data);
      }
    }
  }
}

const Call = z.looseObject({
  id,
  event: id,
  timestamp: unixSeconds,
  direction: id.optional(),
  from: id.optional(),
  to: id.optional(),
  from_user_id: id.optional(),
  to_user_id: id.optional(),
  from_parent_user_id: id.optional(),
  to_parent_user_id: id.optional(),
  status: z.string().optional(),
  start_time: unixSeconds.optional(),
  end_time: unixSeconds.optional(),
  duration: z.coerce.number().int().nonnegative().optional(),
});

/** Calling events: the customer is the caller of a user-initiated call and the callee of a business-initiated one. */
export function normalizeCalls(at: ChangeContext, items: unknown[] | undefined, out: Normalized): void {
  for (const raw of items ?? []) {
    const c = Call.safeParse(raw);
    if (!c.success) {
      out.parked.push({ reason: `malformed call: ${z.prettifyError(c.error)}`, fragment: raw });
      continue;
    }
    const m = c.data;
    const direction = m.direction ?? 'USER_INITIATED';
    const user = direction === 'BUSINESS_INITIATED' ? 'to' : 'from';
    const phone = m[user];
    const userId = m[`${user}_user_id`];
    const contact = contactOf(at.contacts, phone, userId);
    const customer = {
      ...(phone ? { phone } : {}),
      ...((userId ?? contact?.user_id) ? { userId: userId ?? contact?.user_id } : {}),
      ...((m[`${user}_parent_user_id`] ?? contact?.parent_user_id)
        ? { parentUserId: m[`${user}_parent_user_id`] ?? contact?.parent_user_id }
        : {}),
      ...(contact?.profile?.username ? { username: contact.profile.username } : {}),
      ...(contact?.profile?.name ? { profileName: contact.profile.name } : {}),
    };
    if (!customer.phone && !customer.userId) {
      out.parked.push({ reason: 'malformed call: names no customer', fragment: raw });
      continue;
    }
    const data: WhatsAppCallUpdated = {
      provider: 'whatsapp',
      accountId: at.accountId,
      ...(at.businessAccountId ? { businessAccountId: at.businessAccountId } : {}),
      callId: m.id,
      event: m.event,
      direction,
      customer,
      ...(m.status ? { status: m.status } : {}),
      at: fromUnix(m.timestamp).toISOString(),
      ...(m.start_time ? { startedAt: fromUnix(m.start_time).toISOString() } : {}),
      ...(m.end_time ? { endedAt: fromUnix(m.end_time).toISOString() } : {}),
      ...(m.duration === undefined ? {} : { durationSeconds: m.duration }),
      raw: m,
    };
    const eid = eventId('whatsapp', 'call', at.accountId, m.id, m.event);
    push(out, inboundRoutingKeys.whatsappCall, eid, m.id, m.timestamp, data);
  }
}

const ACCOUNT_FIELDS = new Set<string>(WHATSAPP_ACCOUNT_FIELDS);
type AccountField = (typeof WHATSAPP_ACCOUNT_FIELDS)[number];

export const isAccountChange = (change: unknown): boolean =>
  ACCOUNT_FIELDS.has(String((change as { field?: unknown } | null)?.field));

const AccountChange = z.looseObject({
  field: z.enum(WHATSAPP_ACCOUNT_FIELDS),
  value: z.looseObject({
    event: z.string().optional(),
    metadata: z.looseObject({ phone_number_id: z.string().min(1).max(64).optional() }).optional(),
  }),
});

/**
 * An account-level change, published as it is. It carries no timestamp of its own, so its event id
 * is derived from its content: Meta re-sending the same notification is dropped by the inbox.
 */
export function normalizeAccountChange(
  businessAccountId: string | undefined,
  raw: unknown,
  receivedAt: Date,
  out: Normalized,
): void {
  const c = AccountChange.safeParse(raw);
  if (!c.success || !businessAccountId) {
    out.parked.push({ reason: 'malformed account change (value or entry id)', fragment: raw });
    return;
  }
  const field: AccountField = c.data.field;
  const value = c.data.value;
  const phoneNumberId = value.metadata?.phone_number_id;
  const data: WhatsAppAccountUpdated = {
    provider: 'whatsapp',
    field,
    businessAccountId,
    ...(phoneNumberId ? { accountId: phoneNumberId } : {}),
    ...(value.event ? { event: value.event } : {}),
    receivedAt: receivedAt.toISOString(),
    value,
  };
  out.events.push({
    routingKey: inboundRoutingKeys.whatsappAccount,
    event: createEvent({
      id: eventId('whatsapp', 'account', businessAccountId, field, JSON.stringify(value)),
      source: SOURCE,
      type: inboundType(inboundRoutingKeys.whatsappAccount),
      subject: businessAccountId,
      time: receivedAt,
      data,
    }),
  });
}

function push(out: Normalized, routingKey: string, eid: string, subject: string, timestamp: string, data: unknown) {
  out.events.push({
    routingKey,
    event: createEvent({
      id: eid,
      source: SOURCE,
      type: inboundType(routingKey),
      subject,
      time: fromUnix(timestamp),
      data,
    }),
  });
}

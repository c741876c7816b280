import { MailgunEventReceived, type ProviderError } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import { type DeliveryStatus, type LeadEvent, normalizeSubject } from '@switchboard/domain';
import { done, skipped } from '@switchboard/platform';
import type { Channel } from '@switchboard/worker';
import { activeChannel } from '@switchboard/worker';
import type { Deps } from '../deps.ts';
import { applyLeadEvent, type LeadChange } from '../lead/apply.ts';
import type { Count } from '../metrics.ts';
import { createEmailConversation, insertEmailMessage, upsertAndLockEmailCustomer } from '../store/email.ts';
import { recordEmailEvent } from '../store/email-events.ts';
import { findMessageForUpdate, lockMessageKey, type MessageKey } from '../store/messages.ts';
import { applyDeliveryReports } from './delivery-status.ts';
import { domainEvent } from './events.ts';
import { type Applied, type Effects, route } from './route.ts';

type E = MailgunEventReceived;

/** Mailgun event → delivery status of the email (temporary failures, complaints and unsubscribes move none). */
function deliveryStatusOf(e: E): DeliveryStatus | null {
  switch (e.event) {
    case 'accepted':
      return 'sent';
    case 'delivered':
      return 'delivered';
    case 'opened':
    case 'clicked':
      return 'read';
    case 'failed':
      return e.severity === 'temporary' ? null : 'failed';
    default:
      return null;
  }
}

/**
 * Mailgun event → lead event (seed 003): delivered → FIRST_EMAIL_SENT, opened or clicked →
 * ENGAGEMENT_INCREASED, a permanent failure (bounce) → CONVERSATION_ABANDONED. A complaint or an
 * unsubscribe is the lead saying stop, so it abandons the conversation too.
 */
function leadChangeOf(e: E, at: Date): Omit<LeadChange, 'keepFactsOnReject'> | null {
  const trigger = { kind: 'provider' as const, id: `mailgun:${e.event}` };
  const ev = (event: LeadEvent, facts?: LeadChange['facts']) => ({ event, trigger, at, ...(facts ? { facts } : {}) });
  switch (e.event) {
    case 'delivered':
      return ev('FIRST_EMAIL_SENT');
    case 'opened':
      return ev('ENGAGEMENT_INCREASED', { open: true });
    case 'clicked':
      return ev('ENGAGEMENT_INCREASED', { click: true });
    case 'failed':
      return e.severity === 'permanent' ? ev('CONVERSATION_ABANDONED') : null;
    case 'complained':
    case 'unsubscribed':
      return ev('CONVERSATION_ABANDONED');
    default:
      return null;
  }
}

/**
 * An event about an email we sent. An email the pipeline has not seen (sent by a campaign
 * straight through Mailgun) is recorded from the event's headers as the first outbound message of
 * a new thread. The event is recorded once per Mailgun event id, moves the delivery status
 * monotonically, and drives the lead.
 */
export const mailgunEventRoute = route<E, { channel: Channel; messageId: string }>({
  schema: MailgunEventReceived,
  async prepare(deps, event) {
    const channel = await activeChannel(deps, 'mailgun', event.data.accountId);
    if (!channel.ok) return channel;
    return { ok: true, value: { channel: channel.value, messageId: event.data.messageId } };
  },
  lockKeys: ({ channel, messageId }) => [`message:${channel.tenantId}:${messageId}`],
  async apply(tx, deps, items) {
    const results: Applied[] = [];
    for (const { event, value } of items) results.push(await applyEvent(tx, deps, event.data, value.channel));
    return results;
  },
});

/** A permanent failure's detail, as the provider errors a failed delivery status keeps. */
function failureErrors(e: E, status: DeliveryStatus): ProviderError[] | null {
  if (status !== 'failed' || !e.deliveryStatus) return null;
  return [
    {
      ...(e.deliveryStatus.code === undefined ? {} : { code: e.deliveryStatus.code }),
      ...(e.deliveryStatus.message ? { message: e.deliveryStatus.message } : {}),
      ...(e.reason ? { title: e.reason } : {}),
    },
  ];
}

const merge = (into: Effects, more: Effects | null) => {
  if (!more) return;
  into.outbox.push(...more.outbox);
  into.counts.push(...more.counts);
};

async function applyEvent(tx: Executor, deps: Deps, e: E, channel: Channel): Promise<Applied> {
  const tenantId = channel.tenantId;
  const key: MessageKey = { tenantId, provider: 'mailgun', providerMessageId: e.messageId };
  const at = new Date(e.at);
  await lockMessageKey(tx, key);
  const effects: Effects = { outbox: [], counts: [] };
  let message = await findMessageForUpdate(tx, key);
  if (!message) {
    merge(effects, await recordSentEmail(tx, deps, e, channel, at));
    message = await findMessageForUpdate(tx, key);
    if (!message) throw new Error(`email ${e.messageId} missing after insert`);
  }
  if (!(await recordEmailEvent(tx, tenantId, message.id, e))) {
    return { outcome: skipped(`mailgun event ${e.mailgunEventId} already applied`), ...effects };
  }
  const status = deliveryStatusOf(e);
  if (status) {
    const applied = await applyDeliveryReports(tx, deps, key, message, [
      { status, at, errors: failureErrors(e, status) },
    ]);
    merge(effects, { outbox: applied.events, counts: applied.counts });
  }
  const change = leadChangeOf(e, at);
  if (change) {
    merge(
      effects,
      await applyLeadEvent(tx, deps, tenantId, message.conversationId, { ...change, keepFactsOnReject: true }),
    );
  }
  return { outcome: done, ...effects };
}

/** The outbound email an event names, recorded from the event's headers in a thread of its own. */
async function recordSentEmail(tx: Executor, deps: Deps, e: E, channel: Channel, at: Date): Promise<Effects> {
  const tenantId = channel.tenantId;
  const customerId = await upsertAndLockEmailCustomer(tx, tenantId, e.recipient.toLowerCase(), null);
  const conversation = await createEmailConversation(tx, {
    tenantId,
    channelId: channel.id,
    customerId,
    at,
    openedBy: 'system',
  });
  const stored = await insertEmailMessage(tx, {
    tenantId,
    conversationId: conversation.id,
    customerId,
    direction: 'outbound',
    messageIdHeader: e.messageId,
    parentId: null,
    inReplyTo: [],
    references: [],
    subject: e.subject ?? null,
    normalizedSubject: normalizeSubject(e.subject),
    body: null,
    content: { from: e.from ?? null, to: e.recipient, subject: e.subject ?? null, recordedFrom: e.event },
    sentAt: at,
  });
  if (!stored) throw new Error(`email ${e.messageId} stored concurrently`);
  return sentEmailEffects(deps, e, { tenantId, channelId: channel.id, customerId }, conversation, stored.id);
}

/** A thread the event revealed: `conversation.opened` and the email's `message.sent`, and their counts. */
function sentEmailEffects(
  deps: Deps,
  e: E,
  sender: { tenantId: string; channelId: string; customerId: string },
  conversation: { id: string; openedAt: Date },
  messageId: string,
): Effects {
  const { customerId } = sender;
  const meta = { tenantId: sender.tenantId, conversationId: conversation.id };
  const counts: Count[] = [
    { metric: 'conversationsOpened', labels: { provider: 'mailgun' } },
    { metric: 'messagesStored', labels: { provider: 'mailgun', direction: 'outbound' } },
  ];
  const outbox = [
    domainEvent(deps, 'conversation.opened', meta, {
      conversationId: conversation.id,
      customerId,
      channelId: sender.channelId,
      provider: 'mailgun',
      status: 'open',
      openedAt: conversation.openedAt.toISOString(),
    }),
    domainEvent(deps, 'message.sent', meta, {
      messageId,
      conversationId: conversation.id,
      customerId,
      provider: 'mailgun',
      origin: 'mailgun',
      originMessageId: e.messageId,
      author: { kind: 'system', id: e.from ?? 'mailgun' },
      type: 'email',
      ...(e.subject ? { text: e.subject } : {}),
      sentAt: new Date(e.at).toISOString(),
    }),
  ];
  return { outbox, counts };
}

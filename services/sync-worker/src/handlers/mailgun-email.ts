import { MailgunEmailReceived } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import { ancestorChain, detectSignals, isReplySubject, normalizeSubject } from '@switchboard/domain';
import { done, skipped } from '@switchboard/platform';
import type { Channel } from '@switchboard/worker';
import { activeChannel } from '@switchboard/worker';
import type { Deps } from '../deps.ts';
import { applyLeadEvent } from '../lead/apply.ts';
import {
  createEmailConversation,
  customerOfNewEmail,
  findBySubject,
  findThreadAncestor,
  insertEmailMessage,
  type ThreadHit,
} from '../store/email.ts';
import { lockMessageKeys } from '../store/messages.ts';
import { announceOpened, domainEvent } from './events.ts';
import { type Applied, type Effects, route } from './route.ts';

/** How far back a reply may find its thread by subject alone. */
const SUBJECT_FALLBACK_MS = 30 * 86_400_000;

/**
 * A customer's email: the customer by address, the conversation by the References/In-Reply-To
 * graph of that customer's messages (JWZ), by subject only for a reply that cites nothing we
 * hold, else a new conversation (one per thread); then the message, its parent link, the lead's
 * LEAD_REPLIED, and the events, in the batch's transaction.
 */
export const mailgunEmailRoute = route<MailgunEmailReceived, { channel: Channel; from: string }>({
  schema: MailgunEmailReceived,
  async prepare(deps, event) {
    const channel = await activeChannel(deps, 'mailgun', event.data.accountId);
    if (!channel.ok) return channel;
    return { ok: true, value: { channel: channel.value, from: event.data.from } };
  },
  lockKeys: ({ channel, from }) => [`email-customer:${channel.tenantId}:${from}`],
  async apply(tx, deps, items) {
    // Every email's message lock in one statement, in one sorted order (see `lockMessageKeys`), before
    // any of them is looked at: a copy delivered twice waits here for the first, then finds it stored.
    await lockMessageKeys(
      tx,
      items.map(({ event, value }) => ({
        tenantId: value.channel.tenantId,
        provider: 'mailgun',
        providerMessageId: event.data.messageId,
      })),
    );
    const results: Applied[] = [];
    for (const { event, value } of items) results.push(await applyEmail(tx, deps, event.data, value.channel));
    return results;
  },
});

/** Where an email belongs: the conversation its thread is in (or a new one) and the message it answers. */
interface Thread {
  conversationId: string;
  parentId: string | null;
  match: 'references' | 'subject' | 'new';
  /** Set when this email opened a new conversation. */
  openedAt: Date | null;
}

type Sender = { tenantId: string; channelId: string; customerId: string };

async function applyEmail(tx: Executor, deps: Deps, m: MailgunEmailReceived, channel: Channel): Promise<Applied> {
  const tenantId = channel.tenantId;
  // Under the message's advisory lock (taken for the batch in `apply`): null when already stored.
  const customerId = await customerOfNewEmail(tx, tenantId, m.messageId, m.from, m.fromName ?? null);
  if (customerId === null) {
    return { outcome: skipped(`email ${m.messageId} already stored`), outbox: [], counts: [] };
  }
  const sender: Sender = { tenantId, channelId: channel.id, customerId };
  const thread = await threadEmail(tx, sender, m);
  const body = m.strippedText ?? m.text ?? null;
  const stored = await storeEmail(tx, sender, m, thread, body);
  const effects = announceEmail(deps, sender, m, thread, stored, body);
  const lead = await applyLeadEvent(tx, deps, tenantId, thread.conversationId, {
    event: 'LEAD_REPLIED',
    trigger: { kind: 'provider', id: 'mailgun' },
    at: new Date(m.sentAt),
    facts: { inbound: detectSignals(body) },
    keepFactsOnReject: true,
  });
  if (lead) {
    effects.outbox.push(...lead.outbox);
    effects.counts.push(...lead.counts);
  }
  return { outcome: done, ...effects };
}

/**
 * One conversation per thread: the one holding a message this email cites (References /
 * In-Reply-To, JWZ), else by subject for a reply that cites nothing we hold, else a new one.
 */
async function threadEmail(tx: Executor, sender: Sender, m: MailgunEmailReceived): Promise<Thread> {
  const { tenantId, customerId } = sender;
  const at = new Date(m.sentAt);
  const chain = ancestorChain({ messageId: m.messageId, references: m.references, inReplyTo: m.inReplyTo });
  const byRefs = await findThreadAncestor(tx, tenantId, customerId, chain);
  if (byRefs)
    return { conversationId: byRefs.conversationId, parentId: byRefs.messageId, match: 'references', openedAt: null };
  // JWZ's subject grouping, only for a message that says it is a reply and cites nothing we hold.
  const since = new Date(at.getTime() - SUBJECT_FALLBACK_MS);
  const bySubject: ThreadHit | null = isReplySubject(m.subject)
    ? await findBySubject(tx, tenantId, customerId, normalizeSubject(m.subject), since)
    : null;
  if (bySubject) {
    return {
      conversationId: bySubject.conversationId,
      parentId: bySubject.messageId,
      match: 'subject',
      openedAt: null,
    };
  }
  const created = await createEmailConversation(tx, { ...sender, at });
  return { conversationId: created.id, parentId: null, match: 'new', openedAt: created.openedAt };
}

/** The email as a message of its thread, linked to its parent, with what the customer sent kept whole. */
async function storeEmail(tx: Executor, sender: Sender, m: MailgunEmailReceived, thread: Thread, body: string | null) {
  const stored = await insertEmailMessage(tx, {
    tenantId: sender.tenantId,
    conversationId: thread.conversationId,
    customerId: sender.customerId,
    direction: 'inbound',
    messageIdHeader: m.messageId,
    parentId: thread.parentId,
    inReplyTo: m.inReplyTo,
    references: m.references,
    subject: m.subject ?? null,
    normalizedSubject: normalizeSubject(m.subject),
    body,
    content: {
      from: m.from,
      ...(m.fromName ? { fromName: m.fromName } : {}),
      recipient: m.recipient,
      subject: m.subject ?? null,
      text: m.text ?? null,
      html: m.html ?? null,
      attachments: m.attachments,
      format: m.format,
    },
    sentAt: new Date(m.sentAt),
  });
  // Checked under the message's advisory lock (taken in `apply`), so a duplicate cannot get here.
  if (!stored) throw new Error(`email ${m.messageId} was stored concurrently`);
  return stored;
}

/** `conversation.opened` when the email started a thread, then `message.received`; and their counts. */
function announceEmail(
  deps: Deps,
  sender: Sender,
  m: MailgunEmailReceived,
  thread: Thread,
  stored: { id: string; receivedAt: Date },
  body: string | null,
): Effects {
  const { conversationId } = thread;
  const { customerId } = sender;
  const meta = { tenantId: sender.tenantId, conversationId };
  const effects: Effects = {
    outbox: [],
    counts: [
      { metric: 'emailThreading', labels: { match: thread.match } },
      { metric: 'messagesStored', labels: { provider: 'mailgun', direction: 'inbound' } },
    ],
  };
  if (thread.openedAt)
    announceOpened(deps, effects, meta.tenantId, {
      conversationId,
      customerId,
      channelId: sender.channelId,
      provider: 'mailgun',
      status: 'open',
      openedAt: thread.openedAt.toISOString(),
    });
  effects.outbox.push(
    domainEvent(deps, 'message.received', meta, {
      messageId: stored.id,
      conversationId,
      customerId,
      provider: 'mailgun',
      providerMessageId: m.messageId,
      from: m.from,
      type: 'email',
      ...(body === null ? {} : { text: body }),
      sentAt: m.sentAt,
      receivedAt: stored.receivedAt.toISOString(),
    }),
  );
  return effects;
}

import { MailgunEmailReceived } from '@switchboard/contracts';
import type { Executor, OutboxEntry } from '@switchboard/db';
import { ancestorChain, detectSignals, isReplySubject, normalizeSubject } from '@switchboard/domain';
import { done, skipped } from '@switchboard/platform';
import type { Channel } from '@switchboard/worker';
import { activeChannel } from '@switchboard/worker';
import type { Deps } from '../deps.ts';
import { applyLeadEvent } from '../lead/apply.ts';
import type { Count } from '../metrics.ts';
import {
  createEmailConversation,
  emailStored,
  findBySubject,
  findThreadAncestor,
  insertEmailMessage,
  type ThreadHit,
  upsertAndLockEmailCustomer,
} from '../store/email.ts';
import { lockMessageKey } from '../store/messages.ts';
import { domainEvent } from './events.ts';
import { type Applied, route } from './route.ts';

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
    const results: Applied[] = [];
    for (const { event, value } of items) results.push(await applyEmail(tx, deps, event.data, value.channel));
    return results;
  },
});

async function findConversation(tx: Executor, tenantId: string, customerId: string, m: MailgunEmailReceived, at: Date) {
  const chain = ancestorChain({ messageId: m.messageId, references: m.references, inReplyTo: m.inReplyTo });
  const byRefs = await findThreadAncestor(tx, tenantId, customerId, chain);
  if (byRefs) return { hit: byRefs, match: 'references' as const };
  // JWZ's subject grouping, only for a message that says it is a reply and cites nothing we hold.
  const bySubject: ThreadHit | null = isReplySubject(m.subject)
    ? await findBySubject(
        tx,
        tenantId,
        customerId,
        normalizeSubject(m.subject),
        new Date(at.getTime() - SUBJECT_FALLBACK_MS),
      )
    : null;
  return bySubject ? { hit: bySubject, match: 'subject' as const } : { hit: null, match: 'new' as const };
}

async function applyEmail(tx: Executor, deps: Deps, m: MailgunEmailReceived, channel: Channel): Promise<Applied> {
  const tenantId = channel.tenantId;
  await lockMessageKey(tx, { tenantId, provider: 'mailgun', providerMessageId: m.messageId });
  if (await emailStored(tx, tenantId, m.messageId)) {
    return { outcome: skipped(`email ${m.messageId} already stored`), outbox: [], counts: [] };
  }
  const customerId = await upsertAndLockEmailCustomer(tx, tenantId, m.from, m.fromName ?? null);
  const at = new Date(m.sentAt);
  const { hit, match } = await findConversation(tx, tenantId, customerId, m, at);
  const created = hit ? null : await createEmailConversation(tx, { tenantId, channelId: channel.id, customerId, at });
  const conversationId = hit?.conversationId ?? (created as { id: string }).id;
  const body = m.strippedText ?? m.text ?? null;
  const stored = await insertEmailMessage(tx, {
    tenantId,
    conversationId,
    customerId,
    direction: 'inbound',
    messageIdHeader: m.messageId,
    parentId: hit?.messageId ?? null,
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
    sentAt: at,
  });
  // Checked under the message's advisory lock above, so a duplicate cannot get here.
  if (!stored) throw new Error(`email ${m.messageId} was stored concurrently`);
  const counts: Count[] = [
    { metric: 'emailThreading', labels: { match } },
    { metric: 'messagesStored', labels: { provider: 'mailgun', direction: 'inbound' } },
  ];
  const meta = { tenantId, conversationId };
  const outbox: OutboxEntry[] = [];
  if (created) {
    counts.push({ metric: 'conversationsOpened', labels: { provider: 'mailgun' } });
    outbox.push(
      domainEvent(deps, 'conversation.opened', meta, {
        conversationId,
        customerId,
        channelId: channel.id,
        provider: 'mailgun',
        status: 'open',
        openedAt: created.openedAt.toISOString(),
      }),
    );
  }
  outbox.push(
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
  const lead = await applyLeadEvent(tx, deps, tenantId, conversationId, {
    event: 'LEAD_REPLIED',
    trigger: { kind: 'provider', id: 'mailgun' },
    at,
    facts: { inbound: detectSignals(body) },
    keepFactsOnReject: true,
  });
  if (lead) {
    outbox.push(...lead.outbox);
    counts.push(...lead.counts);
  }
  return { outcome: done, outbox, counts };
}

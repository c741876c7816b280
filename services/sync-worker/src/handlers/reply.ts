import { type CloudEvent, eventId } from '@switchboard/contracts';
import { type Executor, type OutboxEntry, pgSafe } from '@switchboard/db';
import { done, skipped } from '@switchboard/platform';
import type { Deps } from '../deps.ts';
import { firstResponseBy } from '../store/analytics.ts';
import { recordOutboundEmail } from '../store/email-reply.ts';
import { takeHeldDeliveryStatusesOf } from '../store/held-delivery-statuses.ts';
import { findMessageForUpdate, lockMessageKey, type MessageKey } from '../store/messages.ts';
import { insertOutboundMessage, type OutboundConversation, touchForOutbound } from '../store/outbound.ts';
import { applyDeliveryReports } from './delivery-status.ts';
import { domainEvent } from './events.ts';
import { recipient } from './recipient.ts';
import { type Reply, rejectReply, replyTarget } from './reply-target.ts';
import type { Applied, Effects } from './route.ts';

/*
 * Replies written by people, a Genesys agent's or an agent-desk operator's: stored once as an
 * outbound message on the conversation (keyed by the origin's message id), and announced twice:
 * `message.sent` for everyone, and `message.outbound.requested` with the customer's address on
 * the conversation's channel for the downstream sender.
 */

type Recipient = Exclude<Awaited<ReturnType<typeof recipient>>, { reject: string }>;

/** Stores the reply on its conversation and returns its events, or why it was refused or skipped. */
export async function recordReply(
  tx: Executor,
  deps: Deps,
  event: CloudEvent,
  found: OutboundConversation | null,
  r: Reply,
): Promise<Applied> {
  const t = await replyTarget(tx, deps, event, found, r);
  if ('outcome' in t) return t.outcome;
  const c = t.conversation;
  // The id is derived from the origin's id, so a re-sent reply maps to the same row (and an email
  // reply to the same Message-ID).
  const id = eventId('outbound', c.tenant_id, r.origin, r.originMessageId);
  const to = await recipient(tx, c, id);
  if ('reject' in to) return rejectReply(tx, event, r.origin, to.reject);
  const key = replyKey(c, r, to);
  await lockMessageKey(tx, key);
  const stored = await storeReply(tx, c, r, id, key, to);
  if (!stored) return { outcome: skipped(`message ${r.originMessageId} already stored`), outbox: [], counts: [] };
  const agent = await touchForReply(tx, deps, c, r);
  const firstMs = await firstResponseBy(tx, c.id, stored.id);
  const events = replyEvents(deps, c, r, stored, to);
  const held = await applyHeldDeliveryStatuses(tx, deps, key);
  return {
    outcome: done,
    outbox: [...(t.opened?.outbox ?? []), ...agent.outbox, ...events, ...held.outbox],
    counts: [
      ...(t.opened?.counts ?? []),
      { metric: 'messagesStored', labels: { provider: r.origin, direction: 'outbound' } },
      ...agent.counts,
      ...held.counts,
      ...(firstMs === null
        ? []
        : [{ metric: 'firstResponse' as const, labels: { origin: r.origin }, value: firstMs / 1000 }]),
    ],
  };
}

/**
 * An email reply is keyed by its Message-ID under `mailgun`, so Mailgun's events and the
 * customer's answer find it; other replies by the origin's id, so the origin's receipts do.
 */
const replyKey = (c: OutboundConversation, r: Reply, to: Recipient): MessageKey =>
  to.email
    ? { tenantId: c.tenant_id, provider: 'mailgun', providerMessageId: to.email.messageIdHeader }
    : { tenantId: c.tenant_id, provider: r.origin, providerMessageId: r.originMessageId };

/** The reply as an outbound message (null: stored before), and an email reply's threading headers. */
async function storeReply(
  tx: Executor,
  c: OutboundConversation,
  r: Reply,
  id: string,
  key: MessageKey,
  to: Recipient,
): Promise<{ id: string; received_at: Date } | null> {
  const stored = await insertOutboundMessage(tx, {
    id,
    tenantId: c.tenant_id,
    conversationId: c.id,
    origin: key.provider,
    originMessageId: key.providerMessageId,
    type: r.type,
    body: r.text === undefined ? null : pgSafe(r.text),
    content: pgSafe({ ...r.content, origin: r.origin, originMessageId: r.originMessageId, author: r.author }),
    at: r.at,
  });
  if (stored && to.email && to.headers) {
    await recordOutboundEmail(tx, {
      tenantId: c.tenant_id,
      conversationId: c.id,
      messageId: stored.id,
      messageIdHeader: to.email.messageIdHeader,
      headers: to.headers,
      sentAt: r.at,
    });
  }
  return stored;
}

/**
 * Records the reply on its conversation (activity, Genesys mapping, agent). Replies can arrive
 * out of order (retries, parallel batches): only a reply newer than the one that set the current
 * agent may change it, so the agent never moves back to an earlier one; a change is a transfer.
 */
async function touchForReply(tx: Executor, deps: Deps, c: OutboundConversation, r: Reply): Promise<Effects> {
  const agentId = r.agentId && (!c.agent_at || r.at > new Date(c.agent_at)) ? r.agentId : undefined;
  const version = await touchForOutbound(tx, c, { at: r.at, genesysConversationId: r.genesysConversationId, agentId });
  if (!agentId || agentId === c.agent_id) return { outbox: [], counts: [] };
  const transferred = domainEvent(
    deps,
    'conversation.transferred',
    { tenantId: c.tenant_id, conversationId: c.id },
    { conversationId: c.id, previousAgentId: c.agent_id, agentId, origin: r.origin, version, at: r.at.toISOString() },
  );
  return { outbox: [transferred], counts: [{ metric: 'transfers', labels: { origin: r.origin } }] };
}

/** `message.sent` for everyone, and `message.outbound.requested` with the address for the sender. */
function replyEvents(
  deps: Deps,
  c: OutboundConversation,
  r: Reply,
  stored: { id: string; received_at: Date },
  to: Recipient,
): OutboxEntry[] {
  const meta = { tenantId: c.tenant_id, conversationId: c.id };
  const messageId = stored.id;
  const genesysConversationId = r.genesysConversationId ?? c.genesys_conversation_id ?? undefined;
  const text = r.text === undefined ? {} : { text: r.text };
  return [
    domainEvent(deps, 'message.sent', meta, {
      messageId,
      conversationId: c.id,
      customerId: c.customer_id,
      provider: c.provider,
      origin: r.origin,
      originMessageId: r.originMessageId,
      author: r.author,
      ...(genesysConversationId ? { genesysConversationId } : {}),
      type: r.type,
      ...text,
      sentAt: r.at.toISOString(),
      recordedAt: stored.received_at.toISOString(),
    }),
    domainEvent(deps, 'message.outbound.requested', meta, {
      messageId,
      conversationId: c.id,
      provider: c.provider,
      to: to.to,
      ...(to.toUserId ? { toUserId: to.toUserId } : {}),
      type: r.type,
      ...text,
      ...(Object.keys(r.content).length > 0 ? { content: r.content } : {}),
      ...(to.email ? { email: to.email } : {}),
      requestedAt: deps.now().toISOString(),
    }),
  ];
}

/** Receipts that overtook the reply (held under its key), applied now that it is stored. */
async function applyHeldDeliveryStatuses(tx: Executor, deps: Deps, key: MessageKey): Promise<Effects> {
  const held = await takeHeldDeliveryStatusesOf(tx, key);
  const row = held.length > 0 ? await findMessageForUpdate(tx, key) : null;
  if (!row) return { outbox: [], counts: [] };
  const applied = await applyDeliveryReports(tx, deps, key, row, held);
  return { outbox: applied.events, counts: applied.counts };
}

import { type CloudEvent, eventId, type MessageAuthor, type MessageOutboundRequested } from '@switchboard/contracts';
import { type Executor, type OutboxEntry, pgSafe, unclaimInbox } from '@switchboard/db';
import { dead, done, skipped } from '@switchboard/platform';
import { CONSUMER, type Deps } from '../deps.ts';
import type { Count } from '../metrics.ts';
import { takeHeldStatusesMany } from '../store/batch.ts';
import { recordOutboundEmail } from '../store/email-reply.ts';
import { findMessageForUpdate, lockMessageKey, type MessageKey } from '../store/messages.ts';
import {
  insertOutboundMessage,
  lockSuccessor,
  type OutboundConversation,
  touchForOutbound,
} from '../store/outbound.ts';
import { applyStatuses } from './delivery.ts';
import { domainEvent } from './events.ts';
import { recipient } from './recipient.ts';
import type { Applied, Effects } from './route.ts';

/**
 * Replies written by people, a Genesys agent's or an agent-desk operator's: stored once as an
 * outbound message on the conversation (keyed by the origin's message id), and announced twice:
 * `message.sent` for everyone, and `message.outbound.requested` with the customer's address on
 * the conversation's channel for the downstream sender.
 */
export interface Reply {
  origin: 'genesys' | 'agent_desk';
  originMessageId: string;
  author: MessageAuthor;
  type: string;
  text: string | undefined;
  content: Record<string, unknown>;
  at: Date;
  genesysConversationId?: string;
  /** Genesys only: the agent now answering, recorded on the conversation (a change is a transfer). */
  agentId?: string;
}

async function reject(tx: Executor, event: CloudEvent, origin: string, reason: string): Promise<Applied> {
  // Dropping the inbox claim lets a replay from the dead-letter queue be evaluated again.
  await unclaimInbox(tx, CONSUMER, event.id);
  const counts: Count[] = [{ metric: 'outboundRejected', labels: { origin, reason: reason.split(':')[0] ?? reason } }];
  return { outcome: dead(reason), outbox: [], counts };
}

type Target = { conversation: OutboundConversation; opened?: Effects } | { outcome: Applied };

/**
 * The conversation a reply lands on. A closed conversation is final (seed 000), so a reply to it
 * goes to its successor: the customer's live conversation on the same channel, opened now (with
 * `conversation.opened`) when there is none. An email thread is its own conversation and the
 * lead state machine decides its end: a reply to a closed one is refused.
 */
async function target(
  tx: Executor,
  deps: Deps,
  event: CloudEvent,
  c: OutboundConversation | null,
  r: Reply,
): Promise<Target> {
  if (!c) {
    const reason = 'unknown_conversation: no conversation of this tenant for the reply';
    return { outcome: await reject(tx, event, r.origin, reason) };
  }
  if (c.status !== 'closed') return { conversation: c };
  if (c.provider === 'mailgun') {
    return { outcome: await reject(tx, event, r.origin, `conversation_closed: email thread ${c.id} is closed`) };
  }
  // A reply stored before (its event redelivered after the inbox forgot it) opens nothing.
  const key = { tenantId: c.tenant_id, provider: r.origin, providerMessageId: r.originMessageId };
  await lockMessageKey(tx, key);
  if (await findMessageForUpdate(tx, key)) {
    return { outcome: { outcome: skipped(`message ${r.originMessageId} already stored`), outbox: [], counts: [] } };
  }
  const next = await lockSuccessor(tx, c, r.at, {
    source: 'agent',
    changedBy: r.author.id ?? null,
    reason: `${r.origin} reply after conversation ${c.id} closed`,
    causeEventId: event.id,
  });
  if (!next.created) return { conversation: next.conversation };
  const n = next.conversation;
  const opened = domainEvent(
    deps,
    'conversation.opened',
    { tenantId: n.tenant_id, conversationId: n.id },
    {
      conversationId: n.id,
      customerId: n.customer_id,
      channelId: n.channel_id,
      provider: n.provider,
      status: n.status as 'open',
      openedAt: next.openedAt.toISOString(),
    },
  );
  return {
    conversation: n,
    opened: { outbox: [opened], counts: [{ metric: 'conversationsOpened', labels: { provider: n.provider } }] },
  };
}

/** Stores the reply on its conversation and returns its events, or why it was refused or skipped. */
export async function recordReply(
  tx: Executor,
  deps: Deps,
  event: CloudEvent,
  found: OutboundConversation | null,
  r: Reply,
): Promise<Applied> {
  const t = await target(tx, deps, event, found, r);
  if ('outcome' in t) return t.outcome;
  const c = t.conversation;
  // The id is derived from the origin's id, so a re-sent reply maps to the same row (and an email
  // reply to the same Message-ID).
  const id = eventId('outbound', c.tenant_id, r.origin, r.originMessageId);
  const to = await recipient(tx, c, id);
  if ('reject' in to) return reject(tx, event, r.origin, to.reject);
  // An email reply is keyed by its Message-ID under `mailgun`, so Mailgun's events and the
  // customer's answer find it; other replies by the origin's id, so the origin's receipts do.
  const key = to.email
    ? { tenantId: c.tenant_id, provider: 'mailgun', providerMessageId: to.email.messageIdHeader }
    : { tenantId: c.tenant_id, provider: r.origin, providerMessageId: r.originMessageId };
  await lockMessageKey(tx, key);
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
  if (!stored) return { outcome: skipped(`message ${r.originMessageId} already stored`), outbox: [], counts: [] };
  if (to.email && to.headers) {
    await recordOutboundEmail(tx, {
      tenantId: c.tenant_id,
      conversationId: c.id,
      messageId: stored.id,
      messageIdHeader: to.email.messageIdHeader,
      headers: to.headers,
      sentAt: r.at,
    });
  }
  const events = await replyEvents(tx, deps, c, r, stored, to);
  const held = await heldStatuses(tx, deps, key);
  return {
    outcome: done,
    outbox: [...(t.opened?.outbox ?? []), ...events.outbox, ...held.outbox],
    counts: [
      ...(t.opened?.counts ?? []),
      { metric: 'messagesStored', labels: { provider: r.origin, direction: 'outbound' } },
      ...events.counts,
      ...held.counts,
    ],
  };
}

/** Records the reply on its conversation (activity, mapping, agent) and builds its events. */
async function replyEvents(
  tx: Executor,
  deps: Deps,
  c: OutboundConversation,
  r: Reply,
  stored: { id: string; received_at: Date },
  to: { to: string; email?: MessageOutboundRequested['email'] },
): Promise<Effects> {
  // Replies can arrive out of order (retries, parallel batches): only a reply newer than the one
  // that set the current agent may change it, so the agent never moves back to an earlier one.
  const agentId = r.agentId && (!c.agent_at || r.at > new Date(c.agent_at)) ? r.agentId : undefined;
  const version = await touchForOutbound(tx, c, { at: r.at, genesysConversationId: r.genesysConversationId, agentId });
  const meta = { tenantId: c.tenant_id, conversationId: c.id };
  const messageId = stored.id;
  const genesysConversationId = r.genesysConversationId ?? c.genesys_conversation_id ?? undefined;
  const outbox: OutboxEntry[] = [];
  const counts: Count[] = [];
  if (agentId && agentId !== c.agent_id) {
    counts.push({ metric: 'transfers', labels: { origin: r.origin } });
    outbox.push(
      domainEvent(deps, 'conversation.transferred', meta, {
        conversationId: c.id,
        previousAgentId: c.agent_id,
        agentId,
        origin: r.origin,
        version,
        at: r.at.toISOString(),
      }),
    );
  }
  const text = r.text === undefined ? {} : { text: r.text };
  outbox.push(
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
      type: r.type,
      ...text,
      ...(Object.keys(r.content).length > 0 ? { content: r.content } : {}),
      ...(to.email ? { email: to.email } : {}),
      requestedAt: deps.now().toISOString(),
    }),
  );
  return { outbox, counts };
}

/** Receipts that overtook the reply (held under its key), applied now that it is stored. */
async function heldStatuses(tx: Executor, deps: Deps, key: MessageKey): Promise<Effects> {
  const held = (await takeHeldStatusesMany(tx, key.provider, [key])).get(`${key.tenantId}/${key.providerMessageId}`);
  const row = held?.length ? await findMessageForUpdate(tx, key) : null;
  if (!row || !held) return { outbox: [], counts: [] };
  const applied = await applyStatuses(tx, deps, key, row, held);
  return { outbox: applied.events, counts: applied.counts };
}

import type { CloudEvent, MessageAuthor } from '@switchboard/contracts';
import { type Executor, unclaimInbox } from '@switchboard/db';
import { dead, skipped } from '@switchboard/platform';
import { CONSUMER, type Deps } from '../deps.ts';
import type { Count } from '../metrics.ts';
import { findMessageForUpdate, lockMessageKey } from '../store/messages.ts';
import { lockSuccessor, type OutboundConversation } from '../store/outbound.ts';
import { domainEvent } from './events.ts';
import type { Applied, Effects } from './route.ts';

/** A reply written by a person, a Genesys agent's or an agent-desk operator's (recordReply, reply.ts, stores it). */
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

/** A refused reply: dead-lettered with its reason and counted. */
export async function rejectReply(tx: Executor, event: CloudEvent, origin: string, reason: string): Promise<Applied> {
  // Dropping the inbox claim lets a replay from the dead-letter queue be evaluated again.
  await unclaimInbox(tx, CONSUMER, event.id);
  const counts: Count[] = [{ metric: 'outboundRejected', labels: { origin, reason: reason.split(':')[0] ?? reason } }];
  return { outcome: dead(reason), outbox: [], counts };
}

export type ReplyTarget = { conversation: OutboundConversation; opened?: Effects } | { outcome: Applied };

/**
 * The conversation a reply lands on. A closed conversation is final (seed 000), so a reply to it
 * goes to its successor (`successorOf`). An email thread is its own conversation and the lead
 * state machine decides its end: a reply to a closed one is refused.
 */
export async function replyTarget(
  tx: Executor,
  deps: Deps,
  event: CloudEvent,
  c: OutboundConversation | null,
  r: Reply,
): Promise<ReplyTarget> {
  if (!c) {
    const reason = 'unknown_conversation: no conversation of this tenant for the reply';
    return { outcome: await rejectReply(tx, event, r.origin, reason) };
  }
  if (c.status !== 'closed') return { conversation: c };
  if (c.provider === 'mailgun') {
    return { outcome: await rejectReply(tx, event, r.origin, `conversation_closed: email thread ${c.id} is closed`) };
  }
  return successorOf(tx, deps, event, c, r);
}

/**
 * A closed chat's successor: the customer's live conversation on the same channel, opened now
 * (with `conversation.opened`) when there is none. A reply stored before (its event redelivered
 * after the inbox forgot it) opens nothing.
 */
async function successorOf(
  tx: Executor,
  deps: Deps,
  event: CloudEvent,
  c: OutboundConversation,
  r: Reply,
): Promise<ReplyTarget> {
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

import {
  AgentDeskOperatorReplied,
  type CloudEvent,
  eventId,
  GenesysAgentMessage,
  GenesysReceipt,
  type MessageAuthor,
  type MessageOutboundRequested,
} from '@switchboard/contracts';
import { type Executor, type OutboxEntry, pgSafe } from '@switchboard/db';
import { dead, done, skipped } from '@switchboard/platform';
import { sql } from 'drizzle-orm';
import { CONSUMER, type Deps } from '../deps.ts';
import { toE164 } from '../phone.ts';
import { takeHeldStatusesMany } from '../store/batch.ts';
import type { Channel } from '../store/channels.ts';
import {
  type EmailReplyHeaders,
  emailReplyHeaders,
  outboundMessageIdHeader,
  recordOutboundEmail,
} from '../store/email-reply.ts';
import { findMessageForUpdate, lockMessageKey } from '../store/messages.ts';
import {
  insertOutboundMessage,
  lockConversationById,
  lockConversationForGenesys,
  type OutboundConversation,
  touchForOutbound,
} from '../store/outbound.ts';
import { activeChannel } from './channel.ts';
import { applyStatuses, reportStatus } from './delivery.ts';
import { domainEvent } from './events.ts';
import { type Applied, route } from './route.ts';

/**
 * Replies written by people: a Genesys agent's message (Open Messaging outbound) and an agent-desk
 * operator's reply. Each is stored once as an outbound message on the conversation (keyed by the
 * origin's message id), and announced twice: `message.sent` for everyone, and
 * `message.outbound.requested` with the customer's address on the conversation's channel for the
 * downstream sender. Receipts for it (Genesys's, keyed by the same id) move its delivery status
 * monotonically, held until the message is stored when they overtake it.
 */

interface Reply {
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

async function reject(tx: Executor, deps: Deps, event: CloudEvent, origin: string, reason: string): Promise<Applied> {
  // Dropping the inbox claim lets a replay from the dead-letter queue be evaluated again.
  await tx.execute(sql`delete from inbox where consumer = ${CONSUMER} and event_id = ${event.id}`);
  deps.metrics.outboundRejected.inc({ origin, reason: reason.split(':')[0] ?? reason });
  return { outcome: dead(reason), outbox: [] };
}

/** Where the downstream sender delivers a reply on this conversation, or why it cannot. */
async function recipient(
  tx: Executor,
  c: OutboundConversation,
  messageId: string,
): Promise<
  { to: string; email?: MessageOutboundRequested['email']; headers?: EmailReplyHeaders } | { reject: string }
> {
  if (c.provider === 'whatsapp') {
    const to = c.whatsapp_id ?? c.phone_e164?.replace(/^\+/, '');
    return to ? { to } : { reject: `no_recipient: customer ${c.customer_id} has no WhatsApp id` };
  }
  if (c.provider === 'mailgun') {
    if (!c.email) return { reject: `no_recipient: customer ${c.customer_id} has no email address` };
    const h = await emailReplyHeaders(tx, c.tenant_id, c.id);
    return {
      to: c.email,
      headers: h,
      email: {
        subject: h.subject,
        messageIdHeader: outboundMessageIdHeader(messageId, c.account_id),
        ...(h.inReplyTo ? { inReplyTo: h.inReplyTo } : {}),
        references: h.references,
      },
    };
  }
  return { reject: `unsupported_channel: conversation ${c.id} is on ${c.provider}` };
}

async function recordReply(
  tx: Executor,
  deps: Deps,
  event: CloudEvent,
  c: OutboundConversation | null,
  r: Reply,
): Promise<Applied> {
  if (!c)
    return reject(tx, deps, event, r.origin, `unknown_conversation: no conversation of this tenant for the reply`);
  if (c.status === 'closed') return reject(tx, deps, event, r.origin, `conversation_closed: ${c.id} is closed`);
  // The id is derived from the origin's id, so a re-sent reply maps to the same row (and an email
  // reply to the same Message-ID).
  const id = eventId('outbound', c.tenant_id, r.origin, r.originMessageId);
  const to = await recipient(tx, c, id);
  if ('reject' in to) return reject(tx, deps, event, r.origin, to.reject);
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
  if (!stored) return { outcome: skipped(`message ${r.originMessageId} already stored`), outbox: [] };
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

  // Replies can arrive out of order (retries, parallel batches): only a reply newer than the one
  // that set the current agent may change it, so the agent never moves back to an earlier one.
  const agentId = r.agentId && (!c.agent_at || r.at > new Date(c.agent_at)) ? r.agentId : undefined;
  const version = await touchForOutbound(tx, c, {
    at: r.at,
    genesysConversationId: r.genesysConversationId,
    agentId,
  });
  const meta = { tenantId: c.tenant_id, conversationId: c.id };
  const genesysConversationId = r.genesysConversationId ?? c.genesys_conversation_id ?? undefined;
  const outbox: OutboxEntry[] = [];
  if (agentId && agentId !== c.agent_id) {
    deps.metrics.transfers.inc({ origin: r.origin });
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
  outbox.push(
    domainEvent(deps, 'message.sent', meta, {
      messageId: stored.id,
      conversationId: c.id,
      customerId: c.customer_id,
      provider: c.provider,
      origin: r.origin,
      originMessageId: r.originMessageId,
      author: r.author,
      ...(genesysConversationId ? { genesysConversationId } : {}),
      type: r.type,
      ...(r.text === undefined ? {} : { text: r.text }),
      sentAt: r.at.toISOString(),
    }),
    domainEvent(deps, 'message.outbound.requested', meta, {
      messageId: stored.id,
      conversationId: c.id,
      provider: c.provider,
      to: to.to,
      type: r.type,
      ...(r.text === undefined ? {} : { text: r.text }),
      ...(Object.keys(r.content).length > 0 ? { content: r.content } : {}),
      ...(to.email ? { email: to.email } : {}),
      requestedAt: deps.now().toISOString(),
    }),
  );
  const held = (await takeHeldStatusesMany(tx, key.provider, [key])).get(`${key.tenantId}/${key.providerMessageId}`);
  if (held?.length) {
    const row = await findMessageForUpdate(tx, key);
    if (row) outbox.push(...(await applyStatuses(tx, deps, key, row, held)).events);
  }
  deps.metrics.messagesStored.inc({ provider: r.origin, direction: 'outbound' });
  return { outcome: done, outbox };
}

export const genesysAgentMessageRoute = route<GenesysAgentMessage, { channel: Channel }>({
  schema: GenesysAgentMessage,
  async prepare(deps, event) {
    const channel = await activeChannel(deps, 'genesys', event.data.accountId);
    return channel.ok ? { ok: true, value: { channel: channel.value } } : channel;
  },
  lockKeys: ({ channel }) => [`genesys:${channel.tenantId}`],
  async apply(tx, deps, items) {
    const out: Applied[] = [];
    for (const { event, value } of items) {
      const m = event.data;
      const c = await lockConversationForGenesys(tx, value.channel.tenantId, m.genesysConversationId, {
        whatsappId: m.to,
        phone: toE164(m.to),
      });
      out.push(
        await recordReply(tx, deps, event, c, {
          origin: 'genesys',
          originMessageId: m.messageId,
          author: { kind: 'agent', id: m.agentId },
          type: m.type,
          text: m.text,
          content: m.attachments?.length ? { attachments: m.attachments } : {},
          at: new Date(m.at),
          genesysConversationId: m.genesysConversationId,
          agentId: m.agentId,
        }),
      );
    }
    return out;
  },
});

export const agentDeskReplyRoute = route<AgentDeskOperatorReplied, { channel: Channel }>({
  schema: AgentDeskOperatorReplied,
  async prepare(deps, event) {
    const channel = await activeChannel(deps, 'agent_desk', event.data.accountId);
    return channel.ok ? { ok: true, value: { channel: channel.value } } : channel;
  },
  lockKeys: ({ channel }) => [`agentdesk:${channel.tenantId}`],
  async apply(tx, deps, items) {
    const out: Applied[] = [];
    for (const { event, value } of items) {
      const e = event.data;
      const c = await lockConversationById(tx, value.channel.tenantId, e.conversationId);
      out.push(
        await recordReply(tx, deps, event, c, {
          origin: 'agent_desk',
          originMessageId: e.messageId,
          author: { kind: 'operator', id: e.operatorId },
          type: 'text',
          text: e.text,
          content: {},
          at: new Date(e.at),
        }),
      );
    }
    return out;
  },
});

/** A Genesys receipt: the same monotonic rule as WhatsApp statuses, on the agent message's row. */
export const genesysReceiptRoute = route<GenesysReceipt, { channel: Channel }>({
  schema: GenesysReceipt,
  async prepare(deps, event) {
    const channel = await activeChannel(deps, 'genesys', event.data.accountId);
    return channel.ok ? { ok: true, value: { channel: channel.value } } : channel;
  },
  lockKeys: ({ channel }) => [`genesys:${channel.tenantId}`],
  async apply(tx, deps, items) {
    const out: Applied[] = [];
    for (const { event, value } of items) {
      const s = event.data;
      const key = { tenantId: value.channel.tenantId, provider: 'genesys', providerMessageId: s.messageId };
      const report = { status: s.status, at: new Date(s.at), errors: s.errors ?? null };
      out.push({ outcome: done, outbox: await reportStatus(tx, deps, key, report, event.id) });
    }
    return out;
  },
});

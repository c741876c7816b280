import { AgentDeskOperatorReplied, GenesysAgentMessage, GenesysReceipt } from '@switchboard/contracts';
import { done } from '@switchboard/platform';
import type { Channel } from '@switchboard/worker';
import { activeChannel } from '@switchboard/worker';
import { toE164 } from '../phone.ts';
import { lockConversationById, lockConversationForGenesys } from '../store/outbound.ts';
import { reportDeliveryStatus } from './delivery-status.ts';
import { recordReply } from './reply.ts';
import { type Applied, route } from './route.ts';

/**
 * The routes of replies written by people (a Genesys agent's message, an agent-desk operator's
 * reply; see `reply.ts`) and of Genesys receipts, which move a reply's delivery status
 * monotonically, held until the reply is stored when they overtake it.
 */

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
      out.push({ outcome: done, ...(await reportDeliveryStatus(tx, deps, key, report, event.id)) });
    }
    return out;
  },
});

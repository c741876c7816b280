import { AgentDeskConversationRequested } from '@switchboard/contracts';
import type { ConversationStatus } from '@switchboard/domain';
import { changeAgent } from './agent-change.ts';
import { type Applied, route } from './route.ts';
import {
  applySyncRequest,
  type ConversationScope,
  conversationLock,
  prepareConversationRequest,
} from './status-sync-request.ts';

type ConversationRequest = AgentDeskConversationRequested;

/** The conversation status each agent-desk action asks for. */
const target: Record<ConversationRequest['action'], ConversationStatus> = {
  assign: 'active',
  release: 'open',
  close: 'closed',
};

/**
 * An operator's request on the agent desk to assign, release or close a conversation: its status
 * synced with its tickets', and its agent recorded (a close keeps the agent who had it).
 */
export const agentDeskConversationRoute = route<ConversationRequest, ConversationScope>({
  schema: AgentDeskConversationRequested,
  prepare: prepareConversationRequest('agent_desk'),
  lockKeys: conversationLock,
  async apply(tx, deps, items) {
    const out: Applied[] = [];
    for (const { event, value } of items) {
      const e = event.data;
      out.push(
        await applySyncRequest(tx, deps, event, value.channel.tenantId, {
          entity: 'conversation',
          conversationId: e.conversationId,
          changedBy: e.operatorId,
          command: () => ({
            cmd: {
              kind: 'conversation',
              status: target[e.action],
              source: 'agent',
              reason: e.reason ?? `${e.action} requested on the agent desk`,
            },
          }),
          // A re-assign of an active conversation keeps its status: changeAgent records the
          // transfer (history row, conversation.transferred) all the same.
          after: async (tx2, conversationId, statusChanged) => {
            if (e.action === 'close') return undefined;
            return changeAgent(
              tx2,
              deps,
              { tenantId: value.channel.tenantId, id: conversationId },
              {
                agentId: e.action === 'assign' ? e.operatorId : null,
                at: new Date(event.time),
                origin: 'agent_desk',
                causeEventId: event.id,
                statusChanged,
              },
            );
          },
        }),
      );
    }
    return out;
  },
});

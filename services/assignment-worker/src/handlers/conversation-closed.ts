import { ConversationStatusChanged } from '@switchboard/contracts';
import { skipped } from '@switchboard/platform';
import { changeChatAndPush, chatOf, eachItem, route, type TenantScoped } from './route.ts';

/** `conversation.status.changed`: only a close matters to the queue, and it completes the chat. */
export const conversationClosedRoute = route({
  schema: ConversationStatusChanged,
  prepare: async (_deps, event) => {
    const scoped = chatOf(event);
    if (!scoped.ok || event.data.status === 'closed') return scoped;
    return { ok: false, outcome: skipped('only a close completes a chat') };
  },
  lockKeys: () => [],
  apply: eachItem<ConversationStatusChanged, TenantScoped>((tx, deps, { event, value }) =>
    changeChatAndPush(
      tx,
      deps,
      { id: event.data.conversationId, tenantId: value.tenantId },
      { kind: 'close', at: new Date(event.data.at) },
    ),
  ),
});

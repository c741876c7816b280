import { MessageReceived } from '@switchboard/contracts';
import { changeChatAndPush, chatOf, eachItem, route, type TenantScoped } from './route.ts';

/**
 * A customer's message: the chat waits for an operator (again). Ordered by when the conversation
 * store recorded it (`receivedAt`), the clock an operator reply's `recordedAt` comes from too.
 */
export const messageReceivedRoute = route({
  schema: MessageReceived,
  prepare: async (_deps, event) => chatOf(event),
  lockKeys: () => [],
  apply: eachItem<MessageReceived, TenantScoped>((tx, deps, { event, value }) =>
    changeChatAndPush(
      tx,
      deps,
      { id: event.data.conversationId, tenantId: value.tenantId },
      { kind: 'customer_message', at: new Date(event.data.receivedAt) },
    ),
  ),
});

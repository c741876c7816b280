import { MessageSent } from '@switchboard/contracts';
import { skipped } from '@switchboard/platform';
import { changeChatAndPush, eachItem, route, type TenantScoped, tenantOf } from './route.ts';

/**
 * An operator's reply: the chat waits for the customer. Ordered by when the conversation store
 * recorded it (`recordedAt`; the desk's `sentAt` only for an event from before `recordedAt`
 * existed): comparing the desk's clock with the store's would let their skew keep a chat barred or
 * out of the queue after the customer wrote. A reply by anyone else is not the queue's business.
 */
export const messageSentRoute = route({
  schema: MessageSent,
  prepare: async (_deps, event) => {
    const scoped = tenantOf(event);
    if (!scoped.ok || event.data.author.kind === 'operator') return scoped;
    return { ok: false, outcome: skipped('not an operator reply') };
  },
  lockKeys: () => [],
  apply: eachItem<MessageSent, TenantScoped>((tx, deps, { event, value }) =>
    changeChatAndPush(
      tx,
      deps,
      { id: event.data.conversationId, tenantId: value.tenantId },
      {
        kind: 'operator_reply',
        operatorId: event.data.author.id,
        at: new Date(event.data.recordedAt ?? event.data.sentAt),
      },
    ),
  ),
});

import { MessageSent } from '@switchboard/contracts';
import { skipped } from '@switchboard/platform';
import { changeChatAndPush, chatOf, eachItem, route, type TenantScoped } from './route.ts';

/** The origin of a message the business sent from the WhatsApp Business app (a message echo). */
const BUSINESS_APP = 'business_app';

/**
 * An operator's reply: the chat waits for the customer. Ordered by when the conversation store
 * recorded it (`recordedAt`; the desk's `sentAt` only for an event from before `recordedAt`
 * existed): comparing the desk's clock with the store's would let their skew keep a chat barred or
 * out of the queue after the customer wrote. A message the business sent from the WhatsApp Business
 * app (origin `business_app`) answers the customer too, by no operator. A reply by anyone else is
 * not the queue's business.
 */
export const messageSentRoute = route({
  schema: MessageSent,
  prepare: async (_deps, event) => {
    const scoped = chatOf(event);
    if (!scoped.ok || event.data.author.kind === 'operator' || event.data.origin === BUSINESS_APP) return scoped;
    return { ok: false, outcome: skipped('not an operator reply') };
  },
  lockKeys: () => [],
  apply: eachItem<MessageSent, TenantScoped>((tx, deps, { event, value }) =>
    changeChatAndPush(
      tx,
      deps,
      { id: event.data.conversationId, tenantId: value.tenantId },
      event.data.origin === BUSINESS_APP && event.data.author.kind !== 'operator'
        ? { kind: 'business_reply', at: new Date(event.data.recordedAt ?? event.data.sentAt) }
        : {
            kind: 'operator_reply',
            operatorId: event.data.author.id,
            at: new Date(event.data.recordedAt ?? event.data.sentAt),
          },
    ),
  ),
});

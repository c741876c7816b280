import type { ConversationOpened, DomainEventData, DomainEventKey } from '@switchboard/contracts';
import { domainOutboxEntry, type OutboxEntry } from '@switchboard/db';
import { type Deps, SOURCE } from '../deps.ts';
import type { ConversationRow } from '../store/batch.ts';
import type { Effects } from './route.ts';

/** A domain event for the outbox: routing key = event name, subject = the conversation. */
export const domainEvent = <K extends DomainEventKey>(
  deps: Pick<Deps, 'names' | 'now'>,
  key: K,
  meta: { tenantId: string; conversationId: string },
  data: DomainEventData<K>,
): OutboxEntry =>
  domainOutboxEntry({
    exchange: deps.names.events,
    source: SOURCE,
    key,
    tenantId: meta.tenantId,
    subject: meta.conversationId,
    time: deps.now(),
    data,
  });

/**
 * Announces a conversation something just opened (a message, an echo, a call): its
 * `conversation.opened` in the outbox and its count, by provider.
 */
export function announceOpened(
  deps: Pick<Deps, 'names' | 'now'>,
  effects: Effects,
  tenantId: string,
  opened: ConversationOpened,
): void {
  effects.outbox.push(
    domainEvent(deps, 'conversation.opened', { tenantId, conversationId: opened.conversationId }, opened),
  );
  effects.counts.push({ metric: 'conversationsOpened', labels: { provider: opened.provider } });
}

/** `conversation.opened`'s data for a live conversation as the store touched it (created just now). */
export const openedFrom = (c: ConversationRow, provider: string): ConversationOpened => ({
  conversationId: c.id,
  customerId: c.customer_id,
  channelId: c.channel_id,
  provider,
  status: c.status,
  openedAt: new Date(c.opened_at).toISOString(),
});

import { createEvent, type DomainEventData, type DomainEventKey, domainEventType } from '@switchboard/contracts';
import type { OutboxEntry } from '@switchboard/db';
import { type Deps, SOURCE } from '../deps.ts';

/** A domain event for the outbox: routing key = event name, subject = the conversation. */
export function domainEvent<K extends DomainEventKey>(
  deps: Pick<Deps, 'names' | 'now'>,
  key: K,
  meta: { tenantId: string; conversationId: string },
  data: DomainEventData<K>,
): OutboxEntry {
  return {
    exchange: deps.names.events,
    routingKey: key,
    event: createEvent({
      source: SOURCE,
      type: domainEventType(key),
      subject: meta.conversationId,
      tenantid: meta.tenantId,
      time: deps.now(),
      data,
    }),
  };
}

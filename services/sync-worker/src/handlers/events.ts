import type { DomainEventData, DomainEventKey } from '@switchboard/contracts';
import { domainOutboxEntry, type OutboxEntry } from '@switchboard/db';
import { type Deps, SOURCE } from '../deps.ts';

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

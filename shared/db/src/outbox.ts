import {
  type CloudEvent,
  createEvent,
  type DomainEventData,
  type DomainEventKey,
  domainEventType,
} from '@switchboard/contracts';
import type { Executor } from './client.ts';
import { outbox } from './schema/index.ts';
import { pgSafe } from './text.ts';

/** The channel the outbox's insert trigger (migration 0008) notifies on commit. */
export const OUTBOX_CHANNEL = 'switchboard_outbox';

export interface OutboxEntry {
  exchange: string;
  routingKey: string;
  event: CloudEvent;
}

/**
 * A domain event for the outbox: routing key = event name, on the events exchange. `id`: given
 * when the event's id must be known before it is written (a statement that inserts it itself).
 */
export function domainOutboxEntry<K extends DomainEventKey>(e: {
  id?: string;
  exchange: string;
  source: string;
  key: K;
  tenantId: string;
  subject: string;
  time: Date;
  data: DomainEventData<K>;
}): OutboxEntry {
  return {
    exchange: e.exchange,
    routingKey: e.key,
    event: createEvent({
      ...(e.id === undefined ? {} : { id: e.id }),
      source: e.source,
      type: domainEventType(e.key),
      subject: e.subject,
      tenantid: e.tenantId,
      time: e.time,
      data: e.data,
    }),
  };
}

/**
 * Appends events in the caller's transaction, so they exist if and only if the change commits.
 * The table's trigger NOTIFYs on commit, which wakes the relay; a lost notification costs one poll.
 */
export async function appendOutbox(tx: Executor, entries: OutboxEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await tx.insert(outbox).values(
    entries.map((e) => ({
      eventId: e.event.id,
      tenantId: e.event.tenantid ?? null,
      aggregateId: e.event.subject ?? e.event.id,
      exchange: e.exchange,
      routingKey: e.routingKey,
      envelope: pgSafe(e.event),
    })),
  );
}

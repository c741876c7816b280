import {
  type CloudEvent,
  createEvent,
  type DomainEventData,
  type DomainEventKey,
  domainEventType,
} from '@switchboard/contracts';
import type pg from 'pg';
import { pgSafe } from './text.ts';
import type { PreparedStatement } from './transaction.ts';

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
 * One named statement whatever the number of events (the rows travel as one JSON array), so each
 * pooled connection parses and plans it once instead of once per transaction.
 */
export async function appendOutbox(client: pg.ClientBase, entries: OutboxEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await client.query(outboxAppendStatement(entries));
}

/** `appendOutbox`'s statement, for a caller that sends it with others (a unit of work's COMMIT). */
export function outboxAppendStatement(entries: OutboxEntry[]): PreparedStatement {
  const rows = entries.map((e) => ({
    event_id: e.event.id,
    tenant_id: e.event.tenantid ?? null,
    aggregate_id: e.event.subject ?? e.event.id,
    exchange: e.exchange,
    routing_key: e.routingKey,
    envelope: pgSafe(e.event),
  }));
  return {
    name: 'outbox_append',
    // In the array's order: ids are the relay's publish order, per aggregate too.
    text: `insert into outbox (event_id, tenant_id, aggregate_id, exchange, routing_key, envelope)
           select (r->>'event_id')::uuid, (r->>'tenant_id')::uuid, r->>'aggregate_id', r->>'exchange',
                  r->>'routing_key', r->'envelope'
             from jsonb_array_elements($1::jsonb) with ordinality as e(r, n)
            order by n`,
    values: [JSON.stringify(rows)],
  };
}

import { sql } from 'drizzle-orm';
import { bigserial, index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Event ids a consumer has applied, claimed in the same transaction as the effects: a
 * redelivered event finds its id here and changes nothing. Written by: each consuming service,
 * under its own `consumer` name.
 */
export const inbox = pgTable(
  'inbox',
  {
    consumer: text('consumer').notNull(),
    eventId: uuid('event_id').notNull(),
    processedAt: timestamp('processed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] }), index('inbox_processed_at_idx').on(t.processedAt)],
);

/**
 * Domain events written in the same transaction as the change they describe; the relay publishes
 * them in id order and stamps `published_at`. Written by: the service that owns the aggregate,
 * and its relay.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    eventId: uuid('event_id').notNull().unique(),
    tenantId: uuid('tenant_id'),
    aggregateId: text('aggregate_id').notNull(),
    exchange: text('exchange').notNull(),
    routingKey: text('routing_key').notNull(),
    envelope: jsonb('envelope').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
  },
  (t) => [index('outbox_unpublished_idx').on(t.id).where(sql`${t.publishedAt} is null`)],
);

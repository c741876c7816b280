import { bigint, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { conversations } from './conversations.ts';
import { tenants } from './tenancy.ts';

/**
 * A conversation's message counts and response times, kept by a trigger on `messages` in the
 * transaction that stores each message (migration `conversation_metrics`), so no write path can
 * forget it and a report never rescans messages. A *turn* is the customer's messages between two
 * replies: `pending_since` is the first message of the turn waiting now; a reply (any outbound
 * message) that ends a turn adds one response of `reply − pending_since`. The first such response
 * is the first response time. Written by: sync-worker (through the trigger).
 */
export const conversationMetrics = pgTable(
  'conversation_metrics',
  {
    conversationId: uuid('conversation_id')
      .primaryKey()
      .references(() => conversations.id),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    /** The conversation's (they never change), copied so a report reads one table. */
    provider: text('provider').notNull(),
    openedAt: timestamp('opened_at', { withTimezone: true }).notNull(),
    inboundCount: integer('inbound_count').notNull().default(0),
    outboundCount: integer('outbound_count').notNull().default(0),
    firstInboundAt: timestamp('first_inbound_at', { withTimezone: true }),
    firstResponseAt: timestamp('first_response_at', { withTimezone: true }),
    firstResponseMs: bigint('first_response_ms', { mode: 'number' }),
    responses: integer('responses').notNull().default(0),
    responseMsTotal: bigint('response_ms_total', { mode: 'number' }).notNull().default(0),
    pendingSince: timestamp('pending_since', { withTimezone: true }),
  },
  (t) => [index('conversation_metrics_tenant_opened_idx').on(t.tenantId, t.openedAt)],
);

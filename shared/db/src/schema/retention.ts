import { sql } from 'drizzle-orm';
import { check, integer, pgTable, primaryKey, timestamp, uuid } from 'drizzle-orm/pg-core';
import { tenants } from './tenancy.ts';

/**
 * A tenant's retention policy: how many days after its close each part of a conversation is kept
 * (see shared/domain/src/retention.ts, which also holds the defaults a tenant without a row gets).
 * Written by: sync-worker (its admin API) and the `switchboard retention` CLI.
 */
export const retentionPolicies = pgTable(
  'retention_policies',
  {
    tenantId: uuid('tenant_id')
      .primaryKey()
      .references(() => tenants.id),
    conversationDays: integer('conversation_days').notNull(),
    messageDays: integer('message_days').notNull(),
    mediaDays: integer('media_days').notNull(),
    emailBodyDays: integer('email_body_days').notNull(),
    statusHistoryDays: integer('status_history_days').notNull(),
    leadDays: integer('lead_days').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check(
      'retention_policies_parts_ck',
      sql`least(${t.conversationDays}, ${t.messageDays}, ${t.mediaDays}, ${t.emailBodyDays}, ${t.statusHistoryDays}, ${t.leadDays}) >= 1
        and greatest(${t.messageDays}, ${t.mediaDays}, ${t.emailBodyDays}, ${t.statusHistoryDays}, ${t.leadDays}) <= ${t.conversationDays}`,
    ),
  ],
);

/**
 * Customers whose personal data was erased (GDPR): the record that makes an erasure idempotent
 * (a second request changes nothing) and resumable (`cache_purged_at` null: the Redis purge is
 * still owed), and that an archive restore consults to erase again what it brings back. Holds no
 * personal data. Written by: sync-worker (its admin API) and the `switchboard customers erase` CLI.
 */
export const customerErasures = pgTable(
  'customer_erasures',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    customerId: uuid('customer_id').notNull(),
    /** The `customer.erased` event written with the erasure. */
    eventId: uuid('event_id').notNull(),
    erasedAt: timestamp('erased_at', { withTimezone: true }).notNull(),
    cachePurgedAt: timestamp('cache_purged_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.customerId] })],
);

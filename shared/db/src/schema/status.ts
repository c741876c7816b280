import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { conversations } from './conversations.ts';
import { tenants } from './tenancy.ts';

const ticketStatuses = `'new', 'open', 'in_progress', 'pending_customer', 'waiting_internal', 'resolved', 'closed'`;

/**
 * Helpdesk tickets about a conversation, with the status the helpdesk or sync gave them.
 * `version` is bumped on every change (the fencing token). Written by: sync-worker.
 */
export const tickets = pgTable(
  'tickets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    /** The helpdesk's id for the ticket; unique per tenant. */
    externalId: text('external_id').notNull(),
    status: text('status').notNull(),
    assignee: text('assignee'),
    subject: text('subject'),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    closedAt: timestamp('closed_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('tickets_tenant_external_uq').on(t.tenantId, t.externalId),
    index('tickets_conversation_idx').on(t.conversationId),
    // The conversation list's text search over ticket subjects (pg_trgm).
    index('tickets_subject_trgm_idx').using('gin', sql`${t.subject} gin_trgm_ops`),
    check('tickets_status_ck', sql.raw(`status in (${ticketStatuses})`)),
  ],
);

/**
 * Every status a conversation or ticket has had (seed 002), one table for both. Rows are written
 * by a trigger on `conversations` and `tickets` in the transaction of the change itself, so no
 * code path can change a status without its history; who, why and the causing event come from
 * transaction-local settings (see `setChangeContext`). Exactly one row per entity is active, and
 * the partial unique index makes Postgres enforce it. Written by: sync-worker (via the trigger)
 * and the legacy migration tool.
 */
export const statusHistory = pgTable(
  'status_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    entityType: text('entity_type').notNull(),
    entityId: uuid('entity_id').notNull(),
    status: text('status').notNull(),
    previousStatus: text('previous_status'),
    isActive: boolean('is_active').notNull().default(true),
    changedBy: text('changed_by'),
    source: text('source').notNull(),
    reason: text('reason'),
    notes: text('notes'),
    causeEventId: uuid('cause_event_id'),
    /** The entity's version after the change. */
    version: integer('version').notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('status_history_one_active_uq').on(t.entityType, t.entityId).where(sql`${t.isActive}`),
    index('status_history_entity_idx').on(t.entityType, t.entityId, t.id),
    // Reports over a time range are per tenant (status changes per day); a range by time alone
    // reads the same index's leading column after the tenant's.
    index('status_history_tenant_changed_idx').on(t.tenantId, t.changedAt),
    check('status_history_entity_ck', sql`${t.entityType} in ('conversation', 'ticket')`),
    check(
      'status_history_source_ck',
      sql`${t.source} in ('agent', 'helpdesk', 'sync', 'migration', 'system', 'customer')`,
    ),
  ],
);

/**
 * The legacy importer's ledger: one row per imported legacy record, holding the record exactly as
 * it was read, so `--rollback` can remove precisely what `--apply` created and `--apply` can skip
 * what is already in. Written by: the `migrate:legacy` tool.
 */
export const legacyImports = pgTable(
  'legacy_imports',
  {
    source: text('source').notNull(),
    legacyId: text('legacy_id').notNull(),
    conversationId: uuid('conversation_id').references(() => conversations.id),
    /** Set when the import created the customer (rollback removes it unless something else uses it). */
    createdCustomerId: uuid('created_customer_id'),
    legacyStatus: text('legacy_status').notNull(),
    original: jsonb('original').notNull(),
    /** null when imported; otherwise why it was not (e.g. `unknown_channel`). */
    problem: text('problem'),
    importedAt: timestamp('imported_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('legacy_imports_uq').on(t.source, t.legacyId),
    index('legacy_imports_conversation_idx').on(t.conversationId),
  ],
);

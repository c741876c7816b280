import { sql } from 'drizzle-orm';
import {
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { conversations, customers, messages } from './conversations.ts';
import { tenants } from './tenancy.ts';

/**
 * The threading headers of an email message (1:1 with `messages`): its Message-ID, the ids it
 * cites, and the parent it was linked to when it was stored. Looked up by (tenant, customer,
 * Message-ID): the graph is scoped to one customer, so a stranger who cites a thread does not
 * join it. Written by: sync-worker.
 */
export const emailMessages = pgTable(
  'email_messages',
  {
    messageId: uuid('message_id')
      .primaryKey()
      .references(() => messages.id),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    /** Message-ID without brackets (also the message's `provider_message_id`). */
    messageIdHeader: text('message_id_header').notNull(),
    /** The nearest stored ancestor; null for the first message of a thread. */
    parentId: uuid('parent_id').references(() => messages.id),
    inReplyTo: text('in_reply_to').array().notNull().default(sql`'{}'::text[]`),
    references: text('references').array().notNull().default(sql`'{}'::text[]`),
    subject: text('subject'),
    normalizedSubject: text('normalized_subject').notNull().default(''),
    direction: text('direction').notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('email_messages_header_idx').on(t.tenantId, t.customerId, t.messageIdHeader),
    index('email_messages_subject_idx').on(t.tenantId, t.customerId, t.normalizedSubject, t.sentAt),
    index('email_messages_conversation_idx').on(t.conversationId, t.sentAt),
    // The conversation list's text search over email subjects (pg_trgm).
    index('email_messages_subject_trgm_idx').using('gin', sql`${t.subject} gin_trgm_ops`),
    check('email_messages_direction_ck', sql`${t.direction} in ('inbound', 'outbound')`),
  ],
);

/**
 * The lead state and journey of an email conversation (seed 003), 1:1 with the conversation.
 * `version` is the fencing token: every change locks the row and bumps it. Written by: sync-worker.
 */
export const leadJourneys = pgTable(
  'lead_journeys',
  {
    conversationId: uuid('conversation_id')
      .primaryKey()
      .references(() => conversations.id),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    state: text('state').notNull().default('NEW'),
    stateEnteredAt: timestamp('state_entered_at', { withTimezone: true }).notNull().defaultNow(),
    stage: text('stage').notNull().default('cold'),
    stageEnteredAt: timestamp('stage_entered_at', { withTimezone: true }).notNull().defaultNow(),
    outboundCount: integer('outbound_count').notNull().default(0),
    inboundCount: integer('inbound_count').notNull().default(0),
    openCount: integer('open_count').notNull().default(0),
    clickCount: integer('click_count').notNull().default(0),
    interestSignals: integer('interest_signals').notNull().default(0),
    purchaseSignals: integer('purchase_signals').notNull().default(0),
    firstOutboundAt: timestamp('first_outbound_at', { withTimezone: true }),
    firstReplyAt: timestamp('first_reply_at', { withTimezone: true }),
    engagementScore: integer('engagement_score').notNull().default(0),
    qualificationScore: integer('qualification_score').notNull().default(0),
    qualificationSignals: jsonb('qualification_signals').$type<string[]>().notNull().default([]),
    /** `[{ milestone, stage, at }]`, one per stage reached, in order. */
    milestones: jsonb('milestones')
      .$type<Array<{ milestone: string; stage: string; at: string }>>()
      .notNull()
      .default([]),
    agentId: text('agent_id'),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('lead_journeys_tenant_state_idx').on(t.tenantId, t.state),
    check(
      'lead_journeys_state_ck',
      sql`${t.state} in ('NEW', 'ACTIVE', 'ENGAGED', 'QUALIFIED', 'READY_FOR_HANDOVER', 'HANDED_OVER', 'CLOSED', 'ARCHIVED')`,
    ),
    check(
      'lead_journeys_stage_ck',
      sql`${t.stage} in ('cold', 'responding', 'engaged', 'interested', 'qualified', 'handover_ready')`,
    ),
  ],
);

/** Every lead state change and stage change, in order: the audit trail. Written by: sync-worker. */
export const leadTransitions = pgTable(
  'lead_transitions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    kind: text('kind').notNull(),
    event: text('event'),
    fromValue: text('from_value').notNull(),
    toValue: text('to_value').notNull(),
    triggeredBy: text('triggered_by').notNull(),
    warnings: jsonb('warnings').notNull().default([]),
    /** The requester's `metadata` of an API transition (seed 003: e.g. `qualificationReason`), as sent. */
    metadata: jsonb('metadata').notNull().default({}),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('lead_transitions_conversation_idx').on(t.conversationId, t.id),
    index('lead_transitions_tenant_kind_idx').on(t.tenantId, t.kind, t.toValue),
    check('lead_transitions_kind_ck', sql`${t.kind} in ('state', 'stage')`),
  ],
);

/** Mailgun events already counted for a message (opens/clicks are counted once per event id). */
export const emailEvents = pgTable(
  'email_events',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    mailgunEventId: text('mailgun_event_id').notNull(),
    messageId: uuid('message_id')
      .notNull()
      .references(() => messages.id),
    event: text('event').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    detail: jsonb('detail').notNull().default({}),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.mailgunEventId] }), index('email_events_message_idx').on(t.messageId)],
);

import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { tenants } from './tenancy.ts';

/**
 * Operators (the humans on the agent desk) per tenant, as the desk reports them: presence,
 * capacity, skills. Written by: assignment-worker.
 */
export const operators = pgTable(
  'operators',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    displayName: text('display_name'),
    status: text('status').notNull().default('offline'),
    /** The most chats assigned at once. */
    capacity: integer('capacity').notNull().default(3),
    skills: text('skills').array().notNull().default(sql`'{}'::text[]`),
    /**
     * How many chats are assigned to the operator now, kept by a trigger on `chats` (migration
     * 0009), so a claim reads the load from the operator row it locks.
     */
    activeChats: integer('active_chats').notNull().default(0),
    lastAssignedAt: timestamp('last_assigned_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    check('operators_status_ck', sql`${t.status} in ('online', 'away', 'offline')`),
    check('operators_capacity_ck', sql`${t.capacity} >= 0`),
    check('operators_active_chats_ck', sql`${t.activeChats} >= 0`),
  ],
);

/**
 * A conversation as the assignment queue sees it (seed 004): its chat state, who has it, who last
 * answered it. `id` is the conversation id. `version` is bumped on every change. Written by:
 * assignment-worker.
 */
export const chats = pgTable(
  'chats',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    state: text('state').notNull(),
    assigneeId: text('assignee_id'),
    /** The open assignment (chat_assignments.id) while assigned. */
    assignmentId: integer('assignment_id'),
    lastOperatorId: text('last_operator_id'),
    operatorRepliedAt: timestamp('operator_replied_at', { withTimezone: true }),
    lastCustomerMessageAt: timestamp('last_customer_message_at', { withTimezone: true }),
    /** Since when the customer has been waiting for an operator (the queue's order). */
    waitingSince: timestamp('waiting_since', { withTimezone: true }),
    assignedAt: timestamp('assigned_at', { withTimezone: true }),
    /** When it completed, while it is completed (a customer message newer than this reopens it unless `closed`). */
    completedAt: timestamp('completed_at', { withTimezone: true }),
    /** The conversation closed: the completion is final. */
    closed: boolean('closed').notNull().default(false),
    /** Released from this operator for idleness: not handed back to it until the customer writes or another operator takes it. */
    idleOperatorId: text('idle_operator_id'),
    /**
     * Set when a chat waited on the customer too long and the tenant flags rather than completes;
     * cleared when the chat moves on (the customer writes, another reply, completion).
     */
    flaggedAt: timestamp('flagged_at', { withTimezone: true }),
    /**
     * The queue (an operator skill) the chat needs; null for any operator. Set by the agent desk
     * with `POST /chats/:id/queue`.
     */
    queue: text('queue'),
    version: integer('version').notNull().default(1),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('chats_queue_idx').on(t.tenantId, t.waitingSince, t.id).where(sql`${t.state} = 'waiting_assignment'`),
    index('chats_assignee_idx').on(t.tenantId, t.assigneeId).where(sql`${t.state} = 'assigned'`),
    index('chats_tenant_state_idx').on(t.tenantId, t.state),
    // The same-operator rule's count in next-chat: waiting chats an operator answered last.
    index('chats_last_operator_idx').on(t.tenantId, t.lastOperatorId).where(sql`${t.state} = 'waiting_assignment'`),
    // The idle bar's count in next-chat: waiting chats released from an operator for idleness.
    index('chats_idle_operator_idx')
      .on(t.tenantId, t.idleOperatorId)
      .where(sql`${t.state} = 'waiting_assignment' and ${t.idleOperatorId} is not null`),
    check(
      'chats_state_ck',
      sql`${t.state} in ('waiting_assignment', 'assigned', 'waiting_real_user_reply', 'completed')`,
    ),
    check('chats_assigned_ck', sql`(${t.state} = 'assigned') = (${t.assigneeId} is not null)`),
  ],
);

/** Every assignment of a chat to an operator and how it ended. Written by: assignment-worker. */
export const chatAssignments = pgTable(
  'chat_assignments',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /**
     * The chat's tenant, written from the chat in the statement that assigns it. No foreign key
     * to `tenants`: the chat has one, and checking it here took a share lock on the tenant's row
     * in every claim, which 200 concurrent claims turned into a multixact each.
     */
    tenantId: uuid('tenant_id').notNull(),
    chatId: uuid('chat_id')
      .notNull()
      .references(() => chats.id),
    operatorId: text('operator_id').notNull(),
    /** `pull` (the operator asked for the next chat), `auto` (pushed by auto-assign) or `transfer` (handed over by another operator). */
    mode: text('mode').notNull(),
    assignedAt: timestamp('assigned_at', { withTimezone: true }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    /** replied, completed, idle, operator_offline, or an operator's reason (released, transfer, wrong_queue). */
    endReason: text('end_reason'),
    /**
     * How long the customer had waited in the queue when this assignment began (`chat.assigned`'s
     * `waitedMs`: since the chat's `waiting_since`, which a release keeps). Null for a transfer,
     * which hands the chat over without queueing it, and for assignments older than migration 0021.
     */
    waitedMs: bigint('waited_ms', { mode: 'number' }),
    /**
     * The provider of the chat's conversation (whatsapp, genesys, mailgun), copied when the
     * assignment is written, so the operator report groups by channel from this table's own index
     * range instead of joining every assignment to its conversation (migration 0022).
     */
    provider: text('provider'),
  },
  (t) => [
    index('chat_assignments_chat_idx').on(t.chatId, t.id),
    index('chat_assignments_operator_idx').on(t.tenantId, t.operatorId),
    // The operator report's two ranges (GET /analytics/operators): assignments begun, and ended, in [from, to).
    index('chat_assignments_assigned_at_idx').on(t.tenantId, t.assignedAt),
    index('chat_assignments_ended_at_idx').on(t.tenantId, t.endedAt).where(sql`${t.endedAt} is not null`),
  ],
);

/** Per-tenant assignment settings; a tenant without a row gets the defaults. Written by: operators (SQL or CLI). */
export const assignmentSettings = pgTable('assignment_settings', {
  tenantId: uuid('tenant_id')
    .primaryKey()
    .references(() => tenants.id),
  autoAssign: boolean('auto_assign').notNull().default(false),
  idleMinutes: integer('idle_minutes').notNull().default(10),
  stuckHours: integer('stuck_hours').notNull().default(24),
  /** What happens to a chat waiting on the customer longer than `stuck_hours`: `complete` or `flag`. */
  stuckAction: text('stuck_action').notNull().default('flag'),
});

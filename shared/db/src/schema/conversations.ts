import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { channels, tenants } from './tenancy.ts';

/**
 * What the conversation list's `q` searches in a customer, as one text; the expression of the
 * trigram index `customers_search_trgm_idx`, so a query must use exactly this to be served by it
 * (`switchboard_search_conversations`, migration 0023, repeats it).
 */
export const customerSearchText = sql.raw(
  `(coalesce(name, '') || E'\\n' || coalesce(phone_e164, '') || E'\\n' || coalesce(email, ''))`,
);

/** Written by: sync-worker. */
export const customers = pgTable(
  'customers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    /** E.164, normalized with libphonenumber-js; unique per tenant. */
    phoneE164: text('phone_e164'),
    whatsappId: text('whatsapp_id'),
    /**
     * WhatsApp's business-scoped user id (BSUID, `US.1349…`), the current one: unique per tenant.
     * Every id the person ever had is in `customer_whatsapp_user_ids`.
     */
    whatsappUserId: text('whatsapp_user_id'),
    /** The BSUID scoped to the parent business (`US.ENT.…`), when Meta sends one; unique per tenant. */
    whatsappParentUserId: text('whatsapp_parent_user_id'),
    /** The WhatsApp username (`@bob`), the latest one seen; unique per tenant (a username moves). */
    whatsappUsername: text('whatsapp_username'),
    /**
     * Set once when an identity notice showed this customer to be another one (the survivor):
     * its ids, conversations and messages moved there. Forward-only: never cleared.
     */
    mergedInto: uuid('merged_into'),
    /** Lower-cased email address; unique per tenant. */
    email: text('email'),
    name: text('name'),
    metadata: jsonb('metadata').notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('customers_tenant_phone_uq').on(t.tenantId, t.phoneE164).where(sql`${t.phoneE164} is not null`),
    uniqueIndex('customers_tenant_email_uq').on(t.tenantId, t.email).where(sql`${t.email} is not null`),
    uniqueIndex('customers_tenant_wa_user_uq')
      .on(t.tenantId, t.whatsappUserId)
      .where(sql`${t.whatsappUserId} is not null`),
    uniqueIndex('customers_tenant_wa_parent_user_uq')
      .on(t.tenantId, t.whatsappParentUserId)
      .where(sql`${t.whatsappParentUserId} is not null`),
    uniqueIndex('customers_tenant_wa_username_uq')
      .on(t.tenantId, t.whatsappUsername)
      .where(sql`${t.whatsappUsername} is not null`),
    // The lookup by WhatsApp user id (`GET /conversations/by-whatsapp/:waId`) scanned every customer.
    index('customers_tenant_whatsapp_idx').on(t.tenantId, t.whatsappId).where(sql`${t.whatsappId} is not null`),
    // The conversation list's text search (pg_trgm): name, phone and email as one text, a newline
    // apart (a search term holds none), so one GIN index answers `ilike '%term%'` over all three.
    index('customers_search_trgm_idx').using('gin', sql`${customerSearchText} gin_trgm_ops`),
  ],
);

/**
 * Every WhatsApp business-scoped user id a customer was ever known by, current and previous: a
 * message under an old id (one that overtook its `user_changed_user_id` notice, or a redelivery)
 * still finds its customer. `superseded` is set once a notice named the id as previous, never
 * cleared. Written by: sync-worker.
 */
export const customerWhatsappUserIds = pgTable(
  'customer_whatsapp_user_ids',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    userId: text('user_id').notNull(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    superseded: boolean('superseded').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.userId] }),
    index('customer_whatsapp_user_ids_customer_idx').on(t.customerId),
  ],
);

/**
 * WhatsApp calls (the `calls` webhook field) on the conversation of the customer who called or was
 * called: one row per call, moved forward by its events (connect, then terminate). Written by: sync-worker.
 */
export const conversationCalls = pgTable(
  'conversation_calls',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    /** Meta's call id (`wacid.…`), unique per tenant. */
    providerCallId: text('provider_call_id').notNull(),
    direction: text('direction').notNull(),
    /** The latest event applied: `connect`, then `terminate` (never back). */
    event: text('event').notNull(),
    /** Meta's outcome on terminate (`COMPLETED`, `FAILED`), null before. */
    status: text('status'),
    startedAt: timestamp('started_at', { withTimezone: true }),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    durationSeconds: integer('duration_seconds'),
    raw: jsonb('raw').notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('conversation_calls_call_uq').on(t.tenantId, t.providerCallId),
    index('conversation_calls_conversation_idx').on(t.conversationId),
  ],
);

/**
 * Written by: sync-worker. At most one conversation per customer and channel is not closed (email
 * excepted: one conversation per thread):
 * the partial unique index is what makes concurrent first messages converge on one row.
 */
export const conversations = pgTable(
  'conversations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id),
    provider: text('provider').notNull(),
    status: text('status').notNull().default('open'),
    genesysConversationId: text('genesys_conversation_id'),
    agentId: text('agent_id'),
    openedAt: timestamp('opened_at', { withTimezone: true }).notNull().defaultNow(),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    lastActivityAt: timestamp('last_activity_at', { withTimezone: true }).notNull().defaultNow(),
    /** Bumped on every change: the fencing token that orders writes to one conversation. */
    version: integer('version').notNull().default(1),
    metadata: jsonb('metadata').notNull().default({}),
  },
  (t) => [
    // Email conversations are one per thread, so a customer may have many live ones.
    uniqueIndex('conversations_one_live_uq')
      .on(t.channelId, t.customerId)
      .where(sql`${t.status} <> 'closed' and ${t.provider} <> 'mailgun'`),
    // A Genesys conversation maps to at most one live conversation; a reply after the close opens
    // the next one with the same mapping, so closed ones may share it.
    uniqueIndex('conversations_genesys_live_uq')
      .on(t.tenantId, t.genesysConversationId)
      .where(sql`${t.genesysConversationId} is not null and ${t.status} <> 'closed'`),
    index('conversations_tenant_genesys_idx')
      .on(t.tenantId, t.genesysConversationId)
      .where(sql`${t.genesysConversationId} is not null`),
    index('conversations_tenant_customer_idx').on(t.tenantId, t.customerId),
    // Foreign-key checks and the legacy rollback look conversations up by customer alone.
    index('conversations_customer_idx').on(t.customerId),
    // The conversation list (`GET /conversations`): newest activity first, keyset on
    // (last_activity_at, id), unfiltered or by status or agent, each an index range read backwards.
    index('conversations_tenant_activity_idx').on(t.tenantId, t.lastActivityAt, t.id),
    index('conversations_tenant_status_activity_idx').on(t.tenantId, t.status, t.lastActivityAt, t.id),
    index('conversations_tenant_agent_activity_idx')
      .on(t.tenantId, t.agentId, t.lastActivityAt, t.id)
      .where(sql`${t.agentId} is not null`),
    // The analytics report's cohort of conversations closed in a time range, and the retention
    // job's walk over a tenant's closed conversations by close time (`closed_at < $cutoff`).
    index('conversations_tenant_closed_idx').on(t.tenantId, t.closedAt).where(sql`${t.closedAt} is not null`),
    // The inactivity sweep (every minute, all tenants): the live chat conversations quiet longest.
    index('conversations_inactivity_idx')
      .on(t.lastActivityAt)
      .where(sql`${t.status} <> 'closed' and ${t.provider} <> 'mailgun'`),
    check('conversations_status_ck', sql`${t.status} in ('open', 'active', 'closed')`),
  ],
);

/** Written by: sync-worker. */
export const messages = pgTable(
  'messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    direction: text('direction').notNull(),
    provider: text('provider').notNull(),
    /** The provider's id (WhatsApp `wamid`); unique per tenant and provider. */
    providerMessageId: text('provider_message_id').notNull(),
    type: text('type').notNull(),
    body: text('body'),
    content: jsonb('content').notNull().default({}),
    providerSentAt: timestamp('provider_sent_at', { withTimezone: true }),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    deliveryStatus: text('delivery_status'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    readAt: timestamp('read_at', { withTimezone: true }),
    failedAt: timestamp('failed_at', { withTimezone: true }),
    errors: jsonb('errors'),
  },
  (t) => [
    uniqueIndex('messages_provider_id_uq').on(t.tenantId, t.provider, t.providerMessageId),
    index('messages_conversation_idx').on(t.conversationId, t.receivedAt),
    check('messages_direction_ck', sql`${t.direction} in ('inbound', 'outbound')`),
    check(
      'messages_delivery_status_ck',
      sql`${t.deliveryStatus} is null or ${t.deliveryStatus} in ('sent', 'failed', 'delivered', 'read')`,
    ),
  ],
);

/**
 * Another provider's id for a stored message: a Genesys agent's or an operator's reply is stored
 * under its origin's id, and the downstream sender that delivered it on WhatsApp reports the
 * `wamid` Meta returned (`POST /messages/:id/dispatched`). That provider's statuses find the
 * message through this row. A message has at most one id per provider, and an id names one
 * message per tenant. Written by: sync-worker (the dispatch route of its API).
 */
export const messageAliases = pgTable(
  'message_aliases',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    provider: text('provider').notNull(),
    providerMessageId: text('provider_message_id').notNull(),
    messageId: uuid('message_id')
      .notNull()
      .references(() => messages.id),
    /** When the sender handed the message to the provider, as it reported. */
    dispatchedAt: timestamp('dispatched_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.provider, t.providerMessageId] }),
    uniqueIndex('message_aliases_message_uq').on(t.messageId, t.provider),
  ],
);

/**
 * Delivery statuses that arrived before their message. Applied and deleted in the transaction
 * that stores the message. Written by: sync-worker.
 */
export const pendingStatuses = pgTable(
  'pending_statuses',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    provider: text('provider').notNull(),
    providerMessageId: text('provider_message_id').notNull(),
    status: text('status').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    errors: jsonb('errors'),
    eventId: uuid('event_id').notNull(),
    heldAt: timestamp('held_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('pending_statuses_uq').on(t.tenantId, t.provider, t.providerMessageId, t.status)],
);

/**
 * Which tenant a WhatsApp Business Account (WABA, the webhook's `entry.id`) belongs to, learned
 * from the messages of its numbers: account-level webhooks (`account_update`, template updates)
 * name the WABA but no `phone_number_id`, so this is how they find their tenant. Written by: sync-worker.
 */
export const whatsappBusinessAccounts = pgTable(
  'whatsapp_business_accounts',
  {
    businessAccountId: text('business_account_id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    /** The channel (phone number) it was learned from. */
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('whatsapp_business_accounts_tenant_idx').on(t.tenantId)],
);

import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { messages } from './conversations.ts';
import { channels, tenants } from './tenancy.ts';

/**
 * A message's media as the provider describes it (the bytes stay with the provider until a
 * downstream fetcher downloads them on `media.download.requested`). One row per message.
 * Written by: sync-worker, in the transaction that stores the message.
 */
export const messageMedia = pgTable(
  'message_media',
  {
    messageId: uuid('message_id')
      .primaryKey()
      .references(() => messages.id),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    provider: text('provider').notNull(),
    kind: text('kind').notNull(),
    providerMediaId: text('provider_media_id').notNull(),
    mimeType: text('mime_type'),
    sha256: text('sha256'),
    caption: text('caption'),
    filename: text('filename'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('message_media_tenant_idx').on(t.tenantId, t.providerMediaId)],
);

/**
 * A channel's webhook secrets. The current one has no `expires_at`; a rotation stamps the old
 * one with the end of its grace period, during which both verify. Plain text because HMAC
 * verification needs the key itself. Written by: the `channels` CLI (operators).
 */
export const channelSecrets = pgTable(
  'channel_secrets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id),
    secret: text('secret').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
  },
  (t) => [
    // At most one current secret per channel.
    uniqueIndex('channel_secrets_current_uq').on(t.channelId).where(sql`${t.expiresAt} is null`),
    index('channel_secrets_channel_idx').on(t.channelId),
    check('channel_secrets_secret_ck', sql`length(${t.secret}) >= 16`),
  ],
);

/**
 * Each provider status report as Meta sent it: the conversation (id, origin, expiry) and pricing
 * (billable, model, category) WhatsApp attaches, and any errors. Keyed by the provider's message
 * id, not the message row, so a report that arrives before its message is kept too; one row per
 * status, the first report wins. Written by: sync-worker, in the status's transaction.
 */
export const messageStatusReports = pgTable(
  'message_status_reports',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    provider: text('provider').notNull(),
    providerMessageId: text('provider_message_id').notNull(),
    status: text('status').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    conversation: jsonb('conversation'),
    pricing: jsonb('pricing'),
    errors: jsonb('errors'),
    eventId: uuid('event_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.provider, t.providerMessageId, t.status] })],
);

import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/** Written by: the `switchboard` CLI (`seed`, `tenants`; operators), never by a service at run time. */
export const tenants = pgTable('tenants', {
  id: uuid('id').primaryKey().defaultRandom(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  timeZone: text('time_zone').notNull().default('UTC'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A provider account that belongs to a tenant: a WhatsApp `phone_number_id`, a Mailgun domain,
 * a Genesys integration id. Inbound events name the account; this row names the tenant.
 * Written by: the `switchboard` CLI (`seed`, `channels`, `tenants disable`; operators).
 */
export const channels = pgTable(
  'channels',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    provider: text('provider').notNull(),
    accountId: text('account_id').notNull(),
    status: text('status').notNull().default('active'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('channels_provider_account_uq').on(t.provider, t.accountId),
    index('channels_tenant_idx').on(t.tenantId),
    check('channels_provider_ck', sql`${t.provider} in ('whatsapp', 'mailgun', 'genesys', 'helpdesk', 'agent_desk')`),
    check('channels_status_ck', sql`${t.status} in ('active', 'disabled')`),
  ],
);

/**
 * Bearer tokens for the APIs, one tenant each: a request sees only its token's tenant, and does
 * only what the token's scopes allow (`read`, `operate`, `admin`; see shared/domain/src/scopes.ts).
 * Only the SHA-256 of a token is stored (tokens are 256 random bits, so a plain hash is enough).
 * Written by: the `switchboard` CLI (`api-tokens`, `seed`; operators).
 */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    name: text('name').notNull(),
    tokenSha256: text('token_sha256').notNull(),
    // A new token reads only unless issued with more; tokens from before scopes keep all three.
    scopes: text('scopes').array().notNull().default(sql`'{read}'::text[]`),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('api_tokens_sha256_uq').on(t.tokenSha256),
    index('api_tokens_tenant_idx').on(t.tenantId),
    check(
      'api_tokens_scopes_ck',
      sql`${t.scopes} <@ array['read', 'operate', 'admin']::text[] and cardinality(${t.scopes}) > 0`,
    ),
  ],
);

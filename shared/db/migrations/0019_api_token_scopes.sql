-- Tokens issued before scopes existed could do everything: they keep all three scopes, so an
-- upgrade breaks no integration (reissue them narrower: `switchboard api-tokens issue --scopes`).
-- A token issued from now on reads only unless it is issued with more.
ALTER TABLE "api_tokens" ADD COLUMN "scopes" text[] DEFAULT '{read,operate,admin}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "api_tokens" ALTER COLUMN "scopes" SET DEFAULT '{read}'::text[];--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_scopes_ck" CHECK ("api_tokens"."scopes" <@ array['read', 'operate', 'admin']::text[] and cardinality("api_tokens"."scopes") > 0);

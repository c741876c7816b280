-- pg_trgm (trusted since Postgres 13: the database owner may create it) backs the conversation list's
-- text search: ilike '%term%' over customers' name, phone and email and over ticket and email subjects.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE INDEX "conversations_tenant_activity_idx" ON "conversations" USING btree ("tenant_id","last_activity_at","id");--> statement-breakpoint
CREATE INDEX "conversations_tenant_status_activity_idx" ON "conversations" USING btree ("tenant_id","status","last_activity_at","id");--> statement-breakpoint
CREATE INDEX "conversations_tenant_agent_activity_idx" ON "conversations" USING btree ("tenant_id","agent_id","last_activity_at","id") WHERE "conversations"."agent_id" is not null;--> statement-breakpoint
CREATE INDEX "conversations_inactivity_idx" ON "conversations" USING btree ("last_activity_at") WHERE "conversations"."status" <> 'closed' and "conversations"."provider" <> 'mailgun';--> statement-breakpoint
CREATE INDEX "customers_tenant_whatsapp_idx" ON "customers" USING btree ("tenant_id","whatsapp_id") WHERE "customers"."whatsapp_id" is not null;--> statement-breakpoint
CREATE INDEX "customers_search_trgm_idx" ON "customers" USING gin ((coalesce(name, '') || E'\n' || coalesce(phone_e164, '') || E'\n' || coalesce(email, '')) gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "email_messages_subject_trgm_idx" ON "email_messages" USING gin ("subject" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "status_history_tenant_changed_idx" ON "status_history" USING btree ("tenant_id","changed_at");--> statement-breakpoint
CREATE INDEX "tickets_subject_trgm_idx" ON "tickets" USING gin ("subject" gin_trgm_ops);
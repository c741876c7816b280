-- The operator report (GET /analytics/operators): each assignment keeps the queue wait it began
-- with (chat.assigned's waitedMs; null for a transfer, and for assignments made before this
-- migration, which the report leaves out of the wait figures), and the report reads two index
-- ranges per tenant: assignments begun in [from, to) and assignments ended in it.
ALTER TABLE "chat_assignments" ADD COLUMN "waited_ms" bigint;--> statement-breakpoint
CREATE INDEX "chat_assignments_assigned_at_idx" ON "chat_assignments" USING btree ("tenant_id","assigned_at");--> statement-breakpoint
CREATE INDEX "chat_assignments_ended_at_idx" ON "chat_assignments" USING btree ("tenant_id","ended_at") WHERE "chat_assignments"."ended_at" is not null;

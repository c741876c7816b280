-- The operator report by channel (GET /analytics/operators?groupBy=channel) read each assignment's
-- conversation for its provider: a join over every assignment in the range, twice the cost of the
-- other groupings on the benchmark store. Each assignment now keeps its conversation's provider,
-- written with it (a primary-key lookup in the same statement); existing rows are filled here.
ALTER TABLE "chat_assignments" ADD COLUMN "provider" text;--> statement-breakpoint
UPDATE "chat_assignments" a SET "provider" = c."provider"
  FROM "conversations" c
 WHERE c."id" = a."chat_id" AND c."tenant_id" = a."tenant_id" AND a."provider" IS NULL;

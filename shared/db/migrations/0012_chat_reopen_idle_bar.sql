-- Completed chats from before this migration stay reopenable (closed = false): a closed
-- conversation receives no new messages (a new one gets a new id), so only chats an operator
-- completed can ever see a newer customer message, and those should reopen.
ALTER TABLE "chats" ADD COLUMN "closed" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "chats" ADD COLUMN "idle_operator_id" text;--> statement-breakpoint
CREATE INDEX "chats_idle_operator_idx" ON "chats" USING btree ("tenant_id","idle_operator_id") WHERE "chats"."state" = 'waiting_assignment' and "chats"."idle_operator_id" is not null;
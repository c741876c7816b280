CREATE TABLE "assignment_settings" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"auto_assign" boolean DEFAULT false NOT NULL,
	"idle_minutes" integer DEFAULT 10 NOT NULL,
	"stuck_hours" integer DEFAULT 24 NOT NULL,
	"stuck_action" text DEFAULT 'flag' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "chat_assignments" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"chat_id" uuid NOT NULL,
	"operator_id" text NOT NULL,
	"mode" text NOT NULL,
	"assigned_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"end_reason" text
);
--> statement-breakpoint
CREATE TABLE "chats" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"state" text NOT NULL,
	"assignee_id" text,
	"assignment_id" integer,
	"last_operator_id" text,
	"operator_replied_at" timestamp with time zone,
	"last_customer_message_at" timestamp with time zone,
	"waiting_since" timestamp with time zone,
	"assigned_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"flagged_at" timestamp with time zone,
	"queue" text,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chats_state_ck" CHECK ("chats"."state" in ('waiting_assignment', 'assigned', 'waiting_real_user_reply', 'completed')),
	CONSTRAINT "chats_assigned_ck" CHECK (("chats"."state" = 'assigned') = ("chats"."assignee_id" is not null))
);
--> statement-breakpoint
CREATE TABLE "operators" (
	"tenant_id" uuid NOT NULL,
	"id" text NOT NULL,
	"display_name" text,
	"status" text DEFAULT 'offline' NOT NULL,
	"capacity" integer DEFAULT 3 NOT NULL,
	"skills" text[] DEFAULT '{}'::text[] NOT NULL,
	"last_assigned_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "operators_tenant_id_id_pk" PRIMARY KEY("tenant_id","id"),
	CONSTRAINT "operators_status_ck" CHECK ("operators"."status" in ('online', 'away', 'offline')),
	CONSTRAINT "operators_capacity_ck" CHECK ("operators"."capacity" >= 0)
);
--> statement-breakpoint
ALTER TABLE "assignment_settings" ADD CONSTRAINT "assignment_settings_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_assignments" ADD CONSTRAINT "chat_assignments_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_assignments" ADD CONSTRAINT "chat_assignments_chat_id_chats_id_fk" FOREIGN KEY ("chat_id") REFERENCES "public"."chats"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chats" ADD CONSTRAINT "chats_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "operators" ADD CONSTRAINT "operators_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chat_assignments_chat_idx" ON "chat_assignments" USING btree ("chat_id","id");--> statement-breakpoint
CREATE INDEX "chat_assignments_operator_idx" ON "chat_assignments" USING btree ("tenant_id","operator_id");--> statement-breakpoint
CREATE INDEX "chats_queue_idx" ON "chats" USING btree ("tenant_id","waiting_since","id") WHERE "chats"."state" = 'waiting_assignment';--> statement-breakpoint
CREATE INDEX "chats_assignee_idx" ON "chats" USING btree ("tenant_id","assignee_id") WHERE "chats"."state" = 'assigned';--> statement-breakpoint
CREATE INDEX "chats_tenant_state_idx" ON "chats" USING btree ("tenant_id","state");
CREATE TABLE "email_events" (
	"tenant_id" uuid NOT NULL,
	"mailgun_event_id" text NOT NULL,
	"message_id" uuid NOT NULL,
	"event" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "email_events_tenant_id_mailgun_event_id_pk" PRIMARY KEY("tenant_id","mailgun_event_id")
);
--> statement-breakpoint
CREATE TABLE "email_messages" (
	"message_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"message_id_header" text NOT NULL,
	"parent_id" uuid,
	"in_reply_to" text[] DEFAULT '{}'::text[] NOT NULL,
	"references" text[] DEFAULT '{}'::text[] NOT NULL,
	"subject" text,
	"normalized_subject" text DEFAULT '' NOT NULL,
	"direction" text NOT NULL,
	"sent_at" timestamp with time zone NOT NULL,
	CONSTRAINT "email_messages_direction_ck" CHECK ("email_messages"."direction" in ('inbound', 'outbound'))
);
--> statement-breakpoint
CREATE TABLE "lead_journeys" (
	"conversation_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"state" text DEFAULT 'NEW' NOT NULL,
	"state_entered_at" timestamp with time zone DEFAULT now() NOT NULL,
	"stage" text DEFAULT 'cold' NOT NULL,
	"stage_entered_at" timestamp with time zone DEFAULT now() NOT NULL,
	"outbound_count" integer DEFAULT 0 NOT NULL,
	"inbound_count" integer DEFAULT 0 NOT NULL,
	"open_count" integer DEFAULT 0 NOT NULL,
	"click_count" integer DEFAULT 0 NOT NULL,
	"interest_signals" integer DEFAULT 0 NOT NULL,
	"purchase_signals" integer DEFAULT 0 NOT NULL,
	"first_outbound_at" timestamp with time zone,
	"first_reply_at" timestamp with time zone,
	"engagement_score" integer DEFAULT 0 NOT NULL,
	"qualification_score" integer DEFAULT 0 NOT NULL,
	"qualification_signals" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"milestones" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"agent_id" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lead_journeys_state_ck" CHECK ("lead_journeys"."state" in ('NEW', 'ACTIVE', 'ENGAGED', 'QUALIFIED', 'READY_FOR_HANDOVER', 'HANDED_OVER', 'CLOSED', 'ARCHIVED')),
	CONSTRAINT "lead_journeys_stage_ck" CHECK ("lead_journeys"."stage" in ('cold', 'responding', 'engaged', 'interested', 'qualified', 'handover_ready'))
);
--> statement-breakpoint
CREATE TABLE "lead_transitions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"event" text,
	"from_value" text NOT NULL,
	"to_value" text NOT NULL,
	"triggered_by" text NOT NULL,
	"warnings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "lead_transitions_kind_ck" CHECK ("lead_transitions"."kind" in ('state', 'stage'))
);
--> statement-breakpoint
DROP INDEX "conversations_one_live_uq";--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "email" text;--> statement-breakpoint
ALTER TABLE "email_events" ADD CONSTRAINT "email_events_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "email_events" ADD CONSTRAINT "email_events_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "email_messages" ADD CONSTRAINT "email_messages_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "email_messages" ADD CONSTRAINT "email_messages_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "email_messages" ADD CONSTRAINT "email_messages_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "email_messages" ADD CONSTRAINT "email_messages_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "email_messages" ADD CONSTRAINT "email_messages_parent_id_messages_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."messages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lead_journeys" ADD CONSTRAINT "lead_journeys_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lead_journeys" ADD CONSTRAINT "lead_journeys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lead_journeys" ADD CONSTRAINT "lead_journeys_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lead_transitions" ADD CONSTRAINT "lead_transitions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lead_transitions" ADD CONSTRAINT "lead_transitions_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "email_events_message_idx" ON "email_events" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "email_messages_header_idx" ON "email_messages" USING btree ("tenant_id","customer_id","message_id_header");--> statement-breakpoint
CREATE INDEX "email_messages_subject_idx" ON "email_messages" USING btree ("tenant_id","customer_id","normalized_subject","sent_at");--> statement-breakpoint
CREATE INDEX "email_messages_conversation_idx" ON "email_messages" USING btree ("conversation_id","sent_at");--> statement-breakpoint
CREATE INDEX "lead_journeys_tenant_state_idx" ON "lead_journeys" USING btree ("tenant_id","state");--> statement-breakpoint
CREATE INDEX "lead_transitions_conversation_idx" ON "lead_transitions" USING btree ("conversation_id","id");--> statement-breakpoint
CREATE INDEX "lead_transitions_tenant_kind_idx" ON "lead_transitions" USING btree ("tenant_id","kind","to_value");--> statement-breakpoint
CREATE UNIQUE INDEX "customers_tenant_email_uq" ON "customers" USING btree ("tenant_id","email") WHERE "customers"."email" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "conversations_one_live_uq" ON "conversations" USING btree ("channel_id","customer_id") WHERE "conversations"."status" <> 'closed' and "conversations"."provider" <> 'mailgun';
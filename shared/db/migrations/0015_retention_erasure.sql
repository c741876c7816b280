CREATE TABLE "customer_erasures" (
	"tenant_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"event_id" uuid NOT NULL,
	"erased_at" timestamp with time zone NOT NULL,
	"cache_purged_at" timestamp with time zone,
	CONSTRAINT "customer_erasures_tenant_id_customer_id_pk" PRIMARY KEY("tenant_id","customer_id")
);
--> statement-breakpoint
CREATE TABLE "retention_policies" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"conversation_days" integer NOT NULL,
	"message_days" integer NOT NULL,
	"media_days" integer NOT NULL,
	"email_body_days" integer NOT NULL,
	"status_history_days" integer NOT NULL,
	"lead_days" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "retention_policies_parts_ck" CHECK (least("retention_policies"."conversation_days", "retention_policies"."message_days", "retention_policies"."media_days", "retention_policies"."email_body_days", "retention_policies"."status_history_days", "retention_policies"."lead_days") >= 1
        and greatest("retention_policies"."message_days", "retention_policies"."media_days", "retention_policies"."email_body_days", "retention_policies"."status_history_days", "retention_policies"."lead_days") <= "retention_policies"."conversation_days")
);
--> statement-breakpoint
ALTER TABLE "customer_erasures" ADD CONSTRAINT "customer_erasures_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "retention_policies" ADD CONSTRAINT "retention_policies_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "conversations_tenant_closed_idx" ON "conversations" USING btree ("tenant_id","closed_at") WHERE "conversations"."status" = 'closed';
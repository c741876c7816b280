CREATE TABLE "message_aliases" (
	"tenant_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"provider_message_id" text NOT NULL,
	"message_id" uuid NOT NULL,
	"dispatched_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "message_aliases_tenant_id_provider_provider_message_id_pk" PRIMARY KEY("tenant_id","provider","provider_message_id")
);
--> statement-breakpoint
ALTER TABLE "message_aliases" ADD CONSTRAINT "message_aliases_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message_aliases" ADD CONSTRAINT "message_aliases_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "message_aliases_message_uq" ON "message_aliases" USING btree ("message_id","provider");
CREATE TABLE "conversation_calls" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"provider_call_id" text NOT NULL,
	"direction" text NOT NULL,
	"event" text NOT NULL,
	"status" text,
	"started_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"duration_seconds" integer,
	"raw" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customer_whatsapp_user_ids" (
	"tenant_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"customer_id" uuid NOT NULL,
	"superseded" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_whatsapp_user_ids_tenant_id_user_id_pk" PRIMARY KEY("tenant_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "whatsapp_business_accounts" (
	"business_account_id" text PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"channel_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "whatsapp_user_id" text;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "whatsapp_parent_user_id" text;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "whatsapp_username" text;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "merged_into" uuid;--> statement-breakpoint
ALTER TABLE "conversation_calls" ADD CONSTRAINT "conversation_calls_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversation_calls" ADD CONSTRAINT "conversation_calls_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_whatsapp_user_ids" ADD CONSTRAINT "customer_whatsapp_user_ids_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_whatsapp_user_ids" ADD CONSTRAINT "customer_whatsapp_user_ids_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "whatsapp_business_accounts" ADD CONSTRAINT "whatsapp_business_accounts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "whatsapp_business_accounts" ADD CONSTRAINT "whatsapp_business_accounts_channel_id_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."channels"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "conversation_calls_call_uq" ON "conversation_calls" USING btree ("tenant_id","provider_call_id");--> statement-breakpoint
CREATE INDEX "conversation_calls_conversation_idx" ON "conversation_calls" USING btree ("conversation_id");--> statement-breakpoint
CREATE INDEX "customer_whatsapp_user_ids_customer_idx" ON "customer_whatsapp_user_ids" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "whatsapp_business_accounts_tenant_idx" ON "whatsapp_business_accounts" USING btree ("tenant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "customers_tenant_wa_user_uq" ON "customers" USING btree ("tenant_id","whatsapp_user_id") WHERE "customers"."whatsapp_user_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "customers_tenant_wa_parent_user_uq" ON "customers" USING btree ("tenant_id","whatsapp_parent_user_id") WHERE "customers"."whatsapp_parent_user_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "customers_tenant_wa_username_uq" ON "customers" USING btree ("tenant_id","whatsapp_username") WHERE "customers"."whatsapp_username" is not null;--> statement-breakpoint
-- The read API's cache (see 0013) learns two more families:
--   uid:<user id>      the customer a WhatsApp business-scoped user id (current or previous) leads to
--   uname:<username>   the customer a WhatsApp username leads to
-- A customer's keys now name every user id it holds and its username; a row of
-- customer_whatsapp_user_ids touches its id and its customer (before and after a move).
CREATE OR REPLACE FUNCTION lookup_customer_keys(r customers) RETURNS text[] LANGUAGE sql STABLE AS $$
  SELECT array_remove(ARRAY[
    r.tenant_id || ':cust:' || r.id,
    r.tenant_id || ':names',
    r.tenant_id || ':phone:' || r.phone_e164,
    r.tenant_id || ':wa:' || r.whatsapp_id,
    r.tenant_id || ':uid:' || r.whatsapp_user_id,
    r.tenant_id || ':uname:' || r.whatsapp_username
  ], NULL) || coalesce((SELECT array_agg(k) FROM conversations c,
      LATERAL (VALUES (c.tenant_id || ':conv:' || c.id), (c.tenant_id || ':gc:' || c.genesys_conversation_id)) v(k)
     WHERE c.customer_id = r.id AND k IS NOT NULL), '{}')
   || coalesce((SELECT array_agg(u.tenant_id || ':uid:' || u.user_id) FROM customer_whatsapp_user_ids u
     WHERE u.customer_id = r.id), '{}')
$$;--> statement-breakpoint
CREATE FUNCTION lookup_touch_customer_user_ids() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM lookup_touch(array(SELECT DISTINCT k FROM new_rows n,
      LATERAL (VALUES (n.tenant_id || ':uid:' || n.user_id), (n.tenant_id || ':cust:' || n.customer_id)) v(k)));
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM lookup_touch(array(SELECT DISTINCT k FROM old_rows o,
      LATERAL (VALUES (o.tenant_id || ':uid:' || o.user_id), (o.tenant_id || ':cust:' || o.customer_id)) v(k)));
  END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER customer_whatsapp_user_ids_lookup_ins AFTER INSERT ON customer_whatsapp_user_ids REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lookup_touch_customer_user_ids();--> statement-breakpoint
CREATE TRIGGER customer_whatsapp_user_ids_lookup_upd AFTER UPDATE ON customer_whatsapp_user_ids REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lookup_touch_customer_user_ids();--> statement-breakpoint
CREATE TRIGGER customer_whatsapp_user_ids_lookup_del AFTER DELETE ON customer_whatsapp_user_ids REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lookup_touch_customer_user_ids();

CREATE TABLE "legacy_imports" (
	"source" text NOT NULL,
	"legacy_id" text NOT NULL,
	"conversation_id" uuid,
	"created_customer_id" uuid,
	"legacy_status" text NOT NULL,
	"original" jsonb NOT NULL,
	"problem" text,
	"imported_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "status_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"status" text NOT NULL,
	"previous_status" text,
	"is_active" boolean DEFAULT true NOT NULL,
	"changed_by" text,
	"source" text NOT NULL,
	"reason" text,
	"notes" text,
	"cause_event_id" uuid,
	"version" integer NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "status_history_entity_ck" CHECK ("status_history"."entity_type" in ('conversation', 'ticket')),
	CONSTRAINT "status_history_source_ck" CHECK ("status_history"."source" in ('agent', 'helpdesk', 'sync', 'migration', 'system', 'customer'))
);
--> statement-breakpoint
CREATE TABLE "tickets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"external_id" text NOT NULL,
	"status" text NOT NULL,
	"assignee" text,
	"subject" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone,
	CONSTRAINT "tickets_status_ck" CHECK (status in ('new', 'open', 'in_progress', 'pending_customer', 'waiting_internal', 'resolved', 'closed'))
);
--> statement-breakpoint
ALTER TABLE "legacy_imports" ADD CONSTRAINT "legacy_imports_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "status_history" ADD CONSTRAINT "status_history_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "legacy_imports_uq" ON "legacy_imports" USING btree ("source","legacy_id");--> statement-breakpoint
CREATE INDEX "legacy_imports_conversation_idx" ON "legacy_imports" USING btree ("conversation_id");--> statement-breakpoint
CREATE UNIQUE INDEX "status_history_one_active_uq" ON "status_history" USING btree ("entity_type","entity_id") WHERE "status_history"."is_active";--> statement-breakpoint
CREATE INDEX "status_history_entity_idx" ON "status_history" USING btree ("entity_type","entity_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "tickets_tenant_external_uq" ON "tickets" USING btree ("tenant_id","external_id");--> statement-breakpoint
CREATE INDEX "tickets_conversation_idx" ON "tickets" USING btree ("conversation_id");--> statement-breakpoint
-- Status history is written here, in the transaction of the change, for every code path. Who and
-- why come from transaction-local settings (set_config(..., true)); unset means a system change.
CREATE FUNCTION record_status_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  src text := coalesce(nullif(current_setting('switchboard.change_source', true), ''), 'system');
BEGIN
  IF TG_OP = 'UPDATE' THEN
    UPDATE status_history SET is_active = false
     WHERE entity_type = TG_ARGV[0] AND entity_id = NEW.id AND is_active;
  END IF;
  INSERT INTO status_history (tenant_id, entity_type, entity_id, status, previous_status, is_active,
                              changed_by, source, reason, notes, cause_event_id, version, changed_at)
  VALUES (NEW.tenant_id, TG_ARGV[0], NEW.id, NEW.status,
          CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, true,
          nullif(current_setting('switchboard.changed_by', true), ''), src,
          nullif(current_setting('switchboard.change_reason', true), ''),
          nullif(current_setting('switchboard.change_notes', true), ''),
          nullif(current_setting('switchboard.cause_event_id', true), '')::uuid,
          NEW.version, now());
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER conversations_status_history AFTER INSERT ON conversations
  FOR EACH ROW EXECUTE FUNCTION record_status_history('conversation');
--> statement-breakpoint
CREATE TRIGGER conversations_status_history_update AFTER UPDATE OF status ON conversations
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION record_status_history('conversation');
--> statement-breakpoint
CREATE TRIGGER tickets_status_history AFTER INSERT ON tickets
  FOR EACH ROW EXECUTE FUNCTION record_status_history('ticket');
--> statement-breakpoint
CREATE TRIGGER tickets_status_history_update AFTER UPDATE OF status ON tickets
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION record_status_history('ticket');
--> statement-breakpoint
CREATE INDEX "conversations_customer_idx" ON "conversations" USING btree ("customer_id");

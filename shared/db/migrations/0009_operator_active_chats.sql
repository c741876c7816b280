ALTER TABLE "chat_assignments" DROP CONSTRAINT "chat_assignments_tenant_id_tenants_id_fk";--> statement-breakpoint
ALTER TABLE "operators" ADD COLUMN "active_chats" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
UPDATE "operators" o SET "active_chats" = (
  SELECT count(*) FROM "chats" c WHERE c.tenant_id = o.tenant_id AND c.state = 'assigned' AND c.assignee_id = o.id
);--> statement-breakpoint
ALTER TABLE "operators" ADD CONSTRAINT "operators_active_chats_ck" CHECK ("operators"."active_chats" >= 0);--> statement-breakpoint
-- An operator's load follows its chats: every write that assigns a chat to an operator, or takes
-- it away (release, reply, completion, reassignment), moves the counter in the same transaction,
-- whichever code path wrote it. Assigning also stamps the operator's last assignment.
CREATE FUNCTION track_operator_load() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was text := CASE WHEN TG_OP = 'UPDATE' AND OLD.state = 'assigned' THEN OLD.assignee_id END;
  now_has text := CASE WHEN NEW.state = 'assigned' THEN NEW.assignee_id END;
BEGIN
  IF was IS NOT DISTINCT FROM now_has THEN
    RETURN NULL;
  END IF;
  IF was IS NOT NULL THEN
    UPDATE operators SET active_chats = active_chats - 1 WHERE tenant_id = OLD.tenant_id AND id = was;
  END IF;
  IF now_has IS NOT NULL THEN
    UPDATE operators SET active_chats = active_chats + 1, last_assigned_at = coalesce(NEW.assigned_at, now())
     WHERE tenant_id = NEW.tenant_id AND id = now_has;
  END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER chats_operator_load AFTER INSERT OR UPDATE OF state, assignee_id ON chats
  FOR EACH ROW EXECUTE FUNCTION track_operator_load();

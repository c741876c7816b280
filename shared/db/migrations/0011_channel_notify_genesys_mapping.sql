-- Before this migration nothing stopped two live conversations of a tenant from carrying the same
-- Genesys conversation id (a Genesys reply could map the customer's live conversation while
-- another still held the id), and the unique index below fails on such rows, failing the deploy.
-- Keep each id on the live conversation that was active last, where the next Genesys message
-- belongs, and clear it on the other live ones (their version moves on, as for any change): they
-- keep their messages and stay findable by customer; closed conversations may share the id.
WITH ranked AS (
  SELECT id, row_number() OVER (
           PARTITION BY tenant_id, genesys_conversation_id
           ORDER BY last_activity_at DESC, opened_at DESC, id DESC) AS n
    FROM conversations
   WHERE genesys_conversation_id IS NOT NULL AND status <> 'closed'
)
UPDATE conversations c SET genesys_conversation_id = NULL, version = c.version + 1
  FROM ranked r
 WHERE c.id = r.id AND r.n > 1;--> statement-breakpoint
CREATE UNIQUE INDEX "conversations_genesys_live_uq" ON "conversations" USING btree ("tenant_id","genesys_conversation_id") WHERE "conversations"."genesys_conversation_id" is not null and "conversations"."status" <> 'closed';--> statement-breakpoint
CREATE INDEX "conversations_tenant_genesys_idx" ON "conversations" USING btree ("tenant_id","genesys_conversation_id") WHERE "conversations"."genesys_conversation_id" is not null;--> statement-breakpoint
-- The sync-worker caches which channel claims a provider account. Every change of a channel tells
-- it, delivered on commit (and only then), so a channel added, disabled or re-enabled is seen at
-- once rather than when a cached answer expires. The payload names the account (both the old and
-- the new one when an update moves it).
CREATE FUNCTION notify_channel_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM pg_notify('switchboard_channels', json_build_object('provider', OLD.provider, 'accountId', OLD.account_id)::text);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM pg_notify('switchboard_channels', json_build_object('provider', NEW.provider, 'accountId', NEW.account_id)::text);
  END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER channels_notify AFTER INSERT OR UPDATE OR DELETE ON channels FOR EACH ROW EXECUTE FUNCTION notify_channel_change();

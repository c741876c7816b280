-- The channel registry's owner republishes the secrets snapshot the edges verify with whenever
-- a secret changes (added, rotated, removed), as it does for the channels themselves (0011's
-- trigger). One NOTIFY per statement, sent on commit: the publisher rereads the whole registry.
CREATE FUNCTION notify_channel_secrets_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('switchboard_channel_secrets', '');
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER channel_secrets_notify AFTER INSERT OR UPDATE OR DELETE ON channel_secrets FOR EACH STATEMENT EXECUTE FUNCTION notify_channel_secrets_change();
--> statement-breakpoint
-- The read API's cache is invalidated by what a transaction changed, not by tenant: statement
-- triggers on the tables its lookups read append the keys of what each statement touched
-- ('<tenant>:<family>:<id>', one per line) to the transaction-local setting
-- switchboard.lookup_keys; the writer reads it just before commit and bumps those keys after.
-- Being triggers, no write path can forget a key. A rolled-back savepoint takes its keys with it
-- (its changes are gone too). Families (see services/sync-worker/src/lookup-cache.ts):
--   conv:<conversation>  the conversation row, its customer's visible fields, its messages
--   cust:<customer>      the customer row, its conversations, their message counts
--   wa:<whatsapp id>     which conversation a WhatsApp user id leads to
--   gc:<genesys id>      which conversation a Genesys conversation id leads to
--   phone:<e164>         the customers with that phone; names: any customer (name search)
CREATE FUNCTION lookup_touch(keys text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(keys) > 0 THEN
    PERFORM set_config('switchboard.lookup_keys',
      coalesce(current_setting('switchboard.lookup_keys', true), '') || array_to_string(keys, E'\n') || E'\n', true);
  END IF;
END;
$$;--> statement-breakpoint
CREATE FUNCTION lookup_touch_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    -- A status, a text, an id: the conversation's history changed, not the counts.
    PERFORM lookup_touch(array(
      SELECT DISTINCT r.tenant_id || ':conv:' || r.conversation_id
        FROM (SELECT tenant_id, conversation_id FROM new_rows UNION SELECT tenant_id, conversation_id FROM old_rows) r));
  ELSIF TG_OP = 'INSERT' THEN
    PERFORM lookup_touch(array(
      SELECT DISTINCT k FROM new_rows n JOIN conversations c ON c.id = n.conversation_id,
        LATERAL (VALUES (n.tenant_id || ':conv:' || n.conversation_id), (n.tenant_id || ':cust:' || c.customer_id)) v(k)));
  ELSE
    PERFORM lookup_touch(array(
      SELECT DISTINCT k FROM old_rows o LEFT JOIN conversations c ON c.id = o.conversation_id,
        LATERAL (VALUES (o.tenant_id || ':conv:' || o.conversation_id), (o.tenant_id || ':cust:' || c.customer_id)) v(k)
       WHERE k IS NOT NULL));
  END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER messages_lookup_ins AFTER INSERT ON messages REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lookup_touch_messages();--> statement-breakpoint
CREATE TRIGGER messages_lookup_upd AFTER UPDATE ON messages REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lookup_touch_messages();--> statement-breakpoint
CREATE TRIGGER messages_lookup_del AFTER DELETE ON messages REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lookup_touch_messages();--> statement-breakpoint
-- A conversation's keys: itself, its customer's profile, the Genesys id it maps (old and new), and
-- for WhatsApp the user id that leads to it (its customer's).
CREATE FUNCTION lookup_conversation_keys(r conversations) RETURNS text[] LANGUAGE sql STABLE AS $$
  SELECT array_remove(ARRAY[
    r.tenant_id || ':conv:' || r.id,
    r.tenant_id || ':cust:' || r.customer_id,
    r.tenant_id || ':gc:' || r.genesys_conversation_id,
    CASE WHEN r.provider = 'whatsapp' THEN
      (SELECT r.tenant_id || ':wa:' || cu.whatsapp_id FROM customers cu WHERE cu.id = r.customer_id) END
  ], NULL)
$$;--> statement-breakpoint
CREATE FUNCTION lookup_touch_conversations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM lookup_touch(array(SELECT DISTINCT unnest(lookup_conversation_keys(n)) FROM new_rows n));
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM lookup_touch(array(SELECT DISTINCT unnest(lookup_conversation_keys(o)) FROM old_rows o));
  END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER conversations_lookup_ins AFTER INSERT ON conversations REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lookup_touch_conversations();--> statement-breakpoint
CREATE TRIGGER conversations_lookup_upd AFTER UPDATE ON conversations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lookup_touch_conversations();--> statement-breakpoint
CREATE TRIGGER conversations_lookup_del AFTER DELETE ON conversations REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lookup_touch_conversations();--> statement-breakpoint
-- A customer's keys: its profile, the phone and WhatsApp id that find it, name search, and every
-- conversation of it (their views show its name, phone, WhatsApp id and email).
CREATE FUNCTION lookup_customer_keys(r customers) RETURNS text[] LANGUAGE sql STABLE AS $$
  SELECT array_remove(ARRAY[
    r.tenant_id || ':cust:' || r.id,
    r.tenant_id || ':names',
    r.tenant_id || ':phone:' || r.phone_e164,
    r.tenant_id || ':wa:' || r.whatsapp_id
  ], NULL) || coalesce((SELECT array_agg(k) FROM conversations c,
      LATERAL (VALUES (c.tenant_id || ':conv:' || c.id), (c.tenant_id || ':gc:' || c.genesys_conversation_id)) v(k)
     WHERE c.customer_id = r.id AND k IS NOT NULL), '{}')
$$;--> statement-breakpoint
CREATE FUNCTION lookup_touch_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM lookup_touch(array(SELECT DISTINCT unnest(lookup_customer_keys(n)) FROM new_rows n));
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM lookup_touch(array(SELECT DISTINCT unnest(lookup_customer_keys(o)) FROM old_rows o));
  END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER customers_lookup_ins AFTER INSERT ON customers REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lookup_touch_customers();--> statement-breakpoint
CREATE TRIGGER customers_lookup_upd AFTER UPDATE ON customers REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lookup_touch_customers();--> statement-breakpoint
CREATE TRIGGER customers_lookup_del AFTER DELETE ON customers REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lookup_touch_customers();

-- The lookup cache's statement trigger on customers (0013, keys widened in 0014) computed each
-- row's keys by calling lookup_customer_keys, a LANGUAGE sql function, per row. PostgreSQL 15
-- cannot inline it there (it takes a row and builds an array with subqueries), so it parsed and
-- planned its body again on every statement that fired the trigger: pg_stat_statements gave
-- 0.34 ms per call for the new rows and 0.60 ms for the old ones, so about 0.9 ms of Postgres time
-- for each customer an email upserted. The same keys are now one query per transition table inside
-- the PL/pgSQL trigger, whose plan PL/pgSQL caches for the session, as 0013's messages trigger
-- already does. (The conversations' trigger had the same cost; the message-route round changes it
-- in its own migration.) The keys, per row: cust:<id>, names, phone:<e164>, wa:<WhatsApp id>,
-- uid:<WhatsApp user id>, uname:<username>, conv:<id> and gc:<Genesys id> of each of its
-- conversations, and uid:<user id> of each WhatsApp user id it holds.
CREATE OR REPLACE FUNCTION lookup_touch_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A customer's keys: its profile, the phone, WhatsApp id, user id and username that find it,
  -- name search, every conversation of it (their views show its name, phone, WhatsApp id and
  -- email) and every WhatsApp user id it holds.
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM lookup_touch(array(
      SELECT DISTINCT x.k FROM new_rows r, LATERAL (
          VALUES (r.tenant_id || ':cust:' || r.id), (r.tenant_id || ':names'), (r.tenant_id || ':phone:' || r.phone_e164),
                 (r.tenant_id || ':wa:' || r.whatsapp_id), (r.tenant_id || ':uid:' || r.whatsapp_user_id),
                 (r.tenant_id || ':uname:' || r.whatsapp_username)
          UNION ALL
          SELECT v.k FROM conversations c,
                 LATERAL (VALUES (c.tenant_id || ':conv:' || c.id), (c.tenant_id || ':gc:' || c.genesys_conversation_id)) v(k)
           WHERE c.customer_id = r.id
          UNION ALL
          SELECT u.tenant_id || ':uid:' || u.user_id FROM customer_whatsapp_user_ids u WHERE u.customer_id = r.id) x(k)
       WHERE x.k IS NOT NULL));
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM lookup_touch(array(
      SELECT DISTINCT x.k FROM old_rows r, LATERAL (
          VALUES (r.tenant_id || ':cust:' || r.id), (r.tenant_id || ':names'), (r.tenant_id || ':phone:' || r.phone_e164),
                 (r.tenant_id || ':wa:' || r.whatsapp_id), (r.tenant_id || ':uid:' || r.whatsapp_user_id),
                 (r.tenant_id || ':uname:' || r.whatsapp_username)
          UNION ALL
          SELECT v.k FROM conversations c,
                 LATERAL (VALUES (c.tenant_id || ':conv:' || c.id), (c.tenant_id || ':gc:' || c.genesys_conversation_id)) v(k)
           WHERE c.customer_id = r.id
          UNION ALL
          SELECT u.tenant_id || ':uid:' || u.user_id FROM customer_whatsapp_user_ids u WHERE u.customer_id = r.id) x(k)
       WHERE x.k IS NOT NULL));
  END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
-- Nothing else calls it.
DROP FUNCTION lookup_customer_keys(customers);

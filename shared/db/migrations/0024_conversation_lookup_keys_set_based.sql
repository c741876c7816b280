-- The conversations' lookup-key trigger (0013): the same keys for less work. 0013 called
-- lookup_conversation_keys once per row, a SQL function with a customers subquery in it, for the
-- new rows and again for the old ones: an update of activity and version (every inbound message
-- bumps its conversation) computed every key twice, each through a function call per row.
-- Now one query per statement computes them for all its rows, and an update computes an old
-- row's keys only when its key columns changed (id, tenant, customer, provider, Genesys id): for
-- the others the new row's keys are the same keys. The customer's WhatsApp id is read from
-- customers as it stands after the statement, as before. The keys, per row:
--   conv:<id>, cust:<customer>, gc:<Genesys id> (when it has one), wa:<its customer's WhatsApp
--   id> (WhatsApp conversations, when the customer has one).
CREATE OR REPLACE FUNCTION lookup_touch_conversations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM lookup_touch(array(SELECT DISTINCT k FROM new_rows r,
      LATERAL (VALUES (r.tenant_id || ':conv:' || r.id), (r.tenant_id || ':cust:' || r.customer_id),
                      (r.tenant_id || ':gc:' || r.genesys_conversation_id),
                      (CASE WHEN r.provider = 'whatsapp' THEN
                         (SELECT r.tenant_id || ':wa:' || cu.whatsapp_id FROM customers cu WHERE cu.id = r.customer_id) END)) v(k)
      WHERE k IS NOT NULL));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM lookup_touch(array(SELECT DISTINCT k FROM (
        SELECT n.id, n.tenant_id, n.customer_id, n.provider, n.genesys_conversation_id FROM new_rows n
        UNION ALL
        SELECT o.id, o.tenant_id, o.customer_id, o.provider, o.genesys_conversation_id FROM old_rows o
         WHERE NOT EXISTS (SELECT 1 FROM new_rows n
                            WHERE n.id = o.id
                              AND (n.tenant_id, n.customer_id, n.provider, n.genesys_conversation_id)
                                  IS NOT DISTINCT FROM (o.tenant_id, o.customer_id, o.provider, o.genesys_conversation_id))
      ) r,
      LATERAL (VALUES (r.tenant_id || ':conv:' || r.id), (r.tenant_id || ':cust:' || r.customer_id),
                      (r.tenant_id || ':gc:' || r.genesys_conversation_id),
                      (CASE WHEN r.provider = 'whatsapp' THEN
                         (SELECT r.tenant_id || ':wa:' || cu.whatsapp_id FROM customers cu WHERE cu.id = r.customer_id) END)) v(k)
      WHERE k IS NOT NULL));
  ELSE
    PERFORM lookup_touch(array(SELECT DISTINCT k FROM old_rows r,
      LATERAL (VALUES (r.tenant_id || ':conv:' || r.id), (r.tenant_id || ':cust:' || r.customer_id),
                      (r.tenant_id || ':gc:' || r.genesys_conversation_id),
                      (CASE WHEN r.provider = 'whatsapp' THEN
                         (SELECT r.tenant_id || ':wa:' || cu.whatsapp_id FROM customers cu WHERE cu.id = r.customer_id) END)) v(k)
      WHERE k IS NOT NULL));
  END IF;
  RETURN NULL;
END;
$$;--> statement-breakpoint
DROP FUNCTION lookup_conversation_keys(conversations);

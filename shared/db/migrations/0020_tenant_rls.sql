-- Row-Level Security: every table that holds a tenant's data answers only the tenant of the
-- transaction (set_config('app.tenant_id', <uuid>, true), set by the worker kit's transaction;
-- see shared/db/src/transaction.ts and docs/production.md "Database roles").
--
-- Roles (cluster-wide; created here when absent, so a fresh install needs nothing else):
--   switchboard_app    what the services connect as (DATABASE_URL). Not the tables' owner, no
--                      superuser, no BYPASSRLS: every row it reads or writes passes the policies.
--                      Created LOGIN without a password: it cannot log in until an operator gives
--                      it one (or it is granted to a login role), except under trust auth.
--   switchboard_admin  no login; granted to whoever runs the migrations (the tables' owner), whose
--                      administrative commands (the CLI) see every tenant through the
--                      `administration` policy. FORCE makes even the owner pass a policy: owning
--                      a table is not by itself a way around them. A superuser bypasses RLS anyway.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app') THEN
    CREATE ROLE switchboard_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL; -- created meanwhile by a migration of another database of this cluster
END;
$$;--> statement-breakpoint
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_admin') THEN
    CREATE ROLE switchboard_admin NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END;
$$;--> statement-breakpoint
DO $$
BEGIN
  IF NOT pg_has_role(current_user, 'switchboard_admin', 'member') THEN
    EXECUTE format('GRANT switchboard_admin TO %I', current_user);
  END IF;
END;
$$;--> statement-breakpoint
-- The transaction's tenant; NULL when none is set ('' once a transaction-local setting ended), so
-- a statement outside a tenant's transaction sees no tenant rows and cannot write any.
CREATE FUNCTION switchboard_current_tenant() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT nullif(current_setting('app.tenant_id', true), '')::uuid
$$;--> statement-breakpoint
-- The one line a migration adds for a new table with a tenant_id column:
--   SELECT switchboard_enable_tenant_rls('my_table');
-- (test/db/tenant-rls.int.test.ts fails for a tenant table without it). Idempotent.
CREATE FUNCTION switchboard_enable_tenant_rls(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', tbl);
  EXECUTE format('DROP POLICY IF EXISTS administration ON %s', tbl);
  EXECUTE format(
    'CREATE POLICY tenant_isolation ON %s USING (tenant_id = switchboard_current_tenant()) '
    'WITH CHECK (tenant_id = switchboard_current_tenant())', tbl);
  EXECUTE format('CREATE POLICY administration ON %s TO switchboard_admin USING (true) WITH CHECK (true)', tbl);
END;
$$;--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO switchboard_app;--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO switchboard_app;--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO switchboard_app;--> statement-breakpoint
-- Tables later migrations create (run by the same owner) are the services' to use as well.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO switchboard_app;--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO switchboard_app;--> statement-breakpoint
-- System tables, outside RLS (the allow-list in test/db/tenant-rls.int.test.ts says why each):
-- the registry that resolves a tenant (tenants, channels, channel_secrets, api_tokens) is read
-- before any tenant is known and written only by the CLI, so the services only read it.
REVOKE INSERT, UPDATE, DELETE ON tenants, channels, channel_secrets, api_tokens FROM switchboard_app;--> statement-breakpoint
REVOKE ALL ON legacy_imports FROM switchboard_app;--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('customers');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('conversations');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('messages');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('message_aliases');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('message_media');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('message_status_reports');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('pending_statuses');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('tickets');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('status_history');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('email_messages');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('email_events');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('lead_journeys');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('lead_transitions');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('operators');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('chats');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('chat_assignments');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('assignment_settings');
--> statement-breakpoint
-- Tenant tables of this round's other migrations (0014 WhatsApp identity, 0015 retention and
-- erasure, 0018 conversation metrics).
SELECT switchboard_enable_tenant_rls('customer_whatsapp_user_ids');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('conversation_calls');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('retention_policies');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('customer_erasures');--> statement-breakpoint
SELECT switchboard_enable_tenant_rls('conversation_metrics');
--> statement-breakpoint
-- legacy_imports is the CLI's (no tenant column; the services have no access to it), but a GDPR
-- erasure, which the sync-worker runs, must scrub the legacy records of the customer it erases.
-- This function does exactly that and nothing else, as the owner, for the customer of the calling
-- transaction's tenant only (switchboard_current_tenant()), and returns how many rows it changed.
CREATE FUNCTION switchboard_erase_legacy_imports(customer uuid) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
  WITH mine AS (
    SELECT c.id FROM conversations c WHERE c.tenant_id = switchboard_current_tenant() AND c.customer_id = customer
  ), changed AS (
    UPDATE legacy_imports li SET original = '{"erased": true}'::jsonb
     WHERE (li.conversation_id IN (SELECT id FROM mine)
            OR li.created_customer_id IN (SELECT cu.id FROM customers cu
                                           WHERE cu.id = customer AND cu.tenant_id = switchboard_current_tenant()))
       AND li.original <> '{"erased": true}'::jsonb
    RETURNING 1
  )
  SELECT count(*)::integer FROM changed
$$;--> statement-breakpoint
REVOKE ALL ON FUNCTION switchboard_erase_legacy_imports(uuid) FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION switchboard_erase_legacy_imports(uuid) TO switchboard_app;
--> statement-breakpoint
-- Likewise for retention: the legacy records of conversations of the transaction's tenant that the
-- retention job removes, deleted and handed back whole for its archive.
CREATE FUNCTION switchboard_take_legacy_imports(conversation_ids uuid[]) RETURNS SETOF jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
  DELETE FROM legacy_imports li
   WHERE li.conversation_id IN (SELECT c.id FROM conversations c
                                 WHERE c.tenant_id = switchboard_current_tenant() AND c.id = ANY (conversation_ids))
  RETURNING to_jsonb(li)
$$;--> statement-breakpoint
REVOKE ALL ON FUNCTION switchboard_take_legacy_imports(uuid[]) FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION switchboard_take_legacy_imports(uuid[]) TO switchboard_app;

CREATE TABLE "conversation_metrics" (
	"conversation_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"inbound_count" integer DEFAULT 0 NOT NULL,
	"outbound_count" integer DEFAULT 0 NOT NULL,
	"first_inbound_at" timestamp with time zone,
	"first_response_at" timestamp with time zone,
	"first_response_ms" bigint,
	"responses" integer DEFAULT 0 NOT NULL,
	"response_ms_total" bigint DEFAULT 0 NOT NULL,
	"pending_since" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "conversation_metrics" ADD CONSTRAINT "conversation_metrics_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversation_metrics" ADD CONSTRAINT "conversation_metrics_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "conversation_metrics_tenant_opened_idx" ON "conversation_metrics" USING btree ("tenant_id","opened_at");--> statement-breakpoint
-- 0015 made this index for retention (status = 'closed'); one on closed_at serves both.
DROP INDEX IF EXISTS "conversations_tenant_closed_idx";--> statement-breakpoint
CREATE INDEX "conversations_tenant_closed_idx" ON "conversations" USING btree ("tenant_id","closed_at") WHERE "conversations"."closed_at" is not null;--> statement-breakpoint
-- Each stored message updates its conversation's metrics in the same transaction (turns: see the
-- table's comment in shared/db/src/schema/analytics.ts). A message stored out of order (older than
-- one already counted) is counted as if it came now: messages are stored under the conversation's
-- row lock with Postgres' clock, so that is rare and only moves a response time by that message.
CREATE FUNCTION track_conversation_metrics() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  inbound boolean := NEW.direction = 'inbound';
BEGIN
  INSERT INTO conversation_metrics AS m (conversation_id, tenant_id, provider, opened_at, inbound_count,
                                         outbound_count, first_inbound_at, pending_since)
  SELECT NEW.conversation_id, NEW.tenant_id, c.provider, c.opened_at, inbound::int, (NOT inbound)::int,
         CASE WHEN inbound THEN NEW.received_at END, CASE WHEN inbound THEN NEW.received_at END
    FROM conversations c WHERE c.id = NEW.conversation_id
  ON CONFLICT (conversation_id) DO UPDATE SET
    inbound_count = m.inbound_count + inbound::int,
    outbound_count = m.outbound_count + (NOT inbound)::int,
    first_inbound_at = coalesce(m.first_inbound_at, CASE WHEN inbound THEN NEW.received_at END),
    pending_since = CASE WHEN inbound THEN coalesce(m.pending_since, NEW.received_at) END,
    responses = m.responses + (NOT inbound AND m.pending_since IS NOT NULL)::int,
    response_ms_total = m.response_ms_total + CASE WHEN NOT inbound AND m.pending_since IS NOT NULL
      THEN greatest(0, round(extract(epoch FROM NEW.received_at - m.pending_since) * 1000))::bigint ELSE 0 END,
    first_response_ms = coalesce(m.first_response_ms, CASE WHEN NOT inbound AND m.pending_since IS NOT NULL
      THEN greatest(0, round(extract(epoch FROM NEW.received_at - m.pending_since) * 1000))::bigint END),
    first_response_at = coalesce(m.first_response_at, CASE WHEN NOT inbound AND m.pending_since IS NOT NULL
      THEN NEW.received_at END);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER messages_conversation_metrics AFTER INSERT ON messages
  FOR EACH ROW EXECUTE FUNCTION track_conversation_metrics();
--> statement-breakpoint
-- The same figures from the messages already stored, for conversations without a metrics row
-- (this migration's backfill; a bulk load that skipped triggers calls it too). One pass of a
-- window over each conversation's messages in order.
CREATE FUNCTION backfill_conversation_metrics() RETURNS bigint LANGUAGE sql AS $$
  WITH m AS (
    SELECT conversation_id, tenant_id, direction, received_at, id,
           count(*) FILTER (WHERE direction = 'outbound') OVER (PARTITION BY conversation_id ORDER BY received_at, id
             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS turn
      FROM messages msg
     WHERE NOT EXISTS (SELECT 1 FROM conversation_metrics cm WHERE cm.conversation_id = msg.conversation_id)
  ), t AS (
    SELECT conversation_id, tenant_id, turn,
           min(received_at) FILTER (WHERE direction = 'inbound') AS asked,
           min(received_at) FILTER (WHERE direction = 'outbound') AS answered,
           count(*) FILTER (WHERE direction = 'inbound') AS i, count(*) FILTER (WHERE direction = 'outbound') AS o
      FROM m GROUP BY conversation_id, tenant_id, turn
  ), r AS (
    SELECT *, CASE WHEN asked IS NOT NULL AND answered IS NOT NULL
                   THEN greatest(0, round(extract(epoch FROM answered - asked) * 1000))::bigint END AS ms
      FROM t
  ), ins AS (
    INSERT INTO conversation_metrics (conversation_id, tenant_id, provider, opened_at, inbound_count, outbound_count,
                                      first_inbound_at, first_response_at, first_response_ms, responses,
                                      response_ms_total, pending_since)
    SELECT r.conversation_id, r.tenant_id, min(c.provider), min(c.opened_at), sum(i), sum(o), min(asked),
           (array_agg(answered ORDER BY turn) FILTER (WHERE ms IS NOT NULL))[1],
           (array_agg(ms ORDER BY turn) FILTER (WHERE ms IS NOT NULL))[1],
           count(ms), coalesce(sum(ms), 0), max(asked) FILTER (WHERE answered IS NULL)
      FROM r JOIN conversations c ON c.id = r.conversation_id
     GROUP BY r.conversation_id, r.tenant_id
    RETURNING 1
  )
  SELECT count(*) FROM ins
$$;
--> statement-breakpoint
SELECT backfill_conversation_metrics();

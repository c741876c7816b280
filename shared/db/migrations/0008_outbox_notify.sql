-- The relay's wake-up, sent by Postgres itself: one NOTIFY per statement that appends to the
-- outbox, delivered on commit (and only then), instead of a `select pg_notify(...)` round trip
-- from every transaction that writes events.
CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('switchboard_outbox', '');
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();

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

-- +goose Up
-- A message repeating one stored long ago is recognised by its source, its
-- messageId and the client's own timestamp of the message (client_ts,
-- microseconds since the epoch; 0 when the message carried none): Segment's
-- SDKs resend a message byte for byte, timestamp included. (One repeating
-- a recent message is recognised by its id alone: store/recent_msgs.go.) Keying the unique index by the
-- client's time first makes each insert land at the recent end of the
-- index, where the pages are already cached and dirty, instead of on a
-- random page of an index as large as the events table (SDK message ids
-- are random UUIDs). Rows stored before this migration keep client_ts 0.
ALTER TABLE events ADD COLUMN client_ts BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX events_dedup ON events (source_id, client_ts, message_id);
DROP INDEX events_message;

-- The per-lead index leaves anonymous events out: they were appended to
-- its NULL group and deleted from there again when their visitor was
-- identified, and nothing reads them through it (events_anonymous finds
-- a visitor's events; lead_id = ? and ranges imply NOT NULL).
DROP INDEX events_lead_ts;
CREATE INDEX events_lead_ts ON events (lead_id, ts) WHERE lead_id IS NOT NULL;

-- +goose Down
DROP INDEX events_lead_ts;
CREATE INDEX events_lead_ts ON events (lead_id, ts);
CREATE UNIQUE INDEX events_message ON events (source_id, message_id);
DROP INDEX events_dedup;
ALTER TABLE events DROP COLUMN client_ts;

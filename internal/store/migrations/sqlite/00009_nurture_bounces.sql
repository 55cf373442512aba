-- +goose Up
-- Nurture: asynchronous bounces (reported after the SMTP conversation) and
-- pause bookkeeping so a resumed wait continues with the time it had left.
ALTER TABLE nurture_enrolments ADD COLUMN paused_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nurture_sends ADD COLUMN bounced_at INTEGER;
ALTER TABLE nurture_sends ADD COLUMN bounce TEXT NOT NULL DEFAULT '';

CREATE TABLE nurture_bounces (
    id          INTEGER PRIMARY KEY,
    email       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    message_id  TEXT    NOT NULL DEFAULT '',
    lead_id     INTEGER,
    send_id     INTEGER,
    at          INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    -- A bounce reported twice (a retried webhook, a re-posted batch) counts once.
    UNIQUE (email, kind, at)
);
CREATE INDEX nurture_sends_message ON nurture_sends (message_id);
CREATE INDEX nurture_bounces_message ON nurture_bounces (message_id, kind);

-- +goose Down
DROP INDEX nurture_sends_message;
DROP INDEX nurture_bounces_message;
DROP TABLE nurture_bounces;
ALTER TABLE nurture_sends DROP COLUMN bounce;
ALTER TABLE nurture_sends DROP COLUMN bounced_at;
ALTER TABLE nurture_enrolments DROP COLUMN paused_at;

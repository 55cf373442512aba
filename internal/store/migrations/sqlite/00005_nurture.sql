-- +goose Up
-- Nurture: sequences (YAML documents), each lead's place in each sequence
-- (enrolments), what a step did (sends, tasks), the addresses never to
-- mail again (suppressions) and the key that signs tracking links.
CREATE TABLE nurture_sequences (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    source     TEXT    NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE nurture_enrolments (
    id          INTEGER PRIMARY KEY,
    sequence_id INTEGER NOT NULL REFERENCES nurture_sequences (id) ON DELETE CASCADE,
    lead_id     INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    step        INTEGER NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL,
    exit_reason TEXT    NOT NULL DEFAULT '',
    cause       TEXT    NOT NULL DEFAULT '',
    enrolled_at INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    next_run_at INTEGER NOT NULL DEFAULT 0
);
-- A lead is in a sequence at most once at a time.
CREATE UNIQUE INDEX nurture_enrolments_live ON nurture_enrolments (sequence_id, lead_id)
    WHERE status IN ('active', 'paused');
CREATE INDEX nurture_enrolments_lead ON nurture_enrolments (lead_id, status);

CREATE TABLE nurture_sends (
    id              INTEGER PRIMARY KEY,
    enrolment_id    INTEGER NOT NULL REFERENCES nurture_enrolments (id) ON DELETE CASCADE,
    step            INTEGER NOT NULL,
    sequence_id     INTEGER NOT NULL,
    lead_id         INTEGER NOT NULL,
    email           TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    message_id      TEXT    NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    opened_at       INTEGER,
    clicked_at      INTEGER,
    unsubscribed_at INTEGER,
    UNIQUE (enrolment_id, step)
);
CREATE INDEX nurture_sends_sequence ON nurture_sends (sequence_id, step);

CREATE TABLE nurture_tasks (
    id           INTEGER PRIMARY KEY,
    enrolment_id INTEGER NOT NULL REFERENCES nurture_enrolments (id) ON DELETE CASCADE,
    step         INTEGER NOT NULL,
    sequence_id  INTEGER NOT NULL,
    lead_id      INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    owner        TEXT    NOT NULL DEFAULT '',
    due_at       INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    outcome      TEXT    NOT NULL DEFAULT '',
    touch_id     INTEGER,
    created_at   INTEGER NOT NULL,
    done_at      INTEGER,
    done_by      TEXT    NOT NULL DEFAULT '',
    UNIQUE (enrolment_id, step)
);
CREATE INDEX nurture_tasks_open ON nurture_tasks (status, due_at);

CREATE TABLE nurture_suppressions (
    email   TEXT    PRIMARY KEY,
    reason  TEXT    NOT NULL,
    lead_id INTEGER,
    at      INTEGER NOT NULL
);

CREATE TABLE nurture_keys (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    secret TEXT    NOT NULL
);

-- +goose Down
DROP TABLE nurture_keys;
DROP TABLE nurture_suppressions;
DROP TABLE nurture_tasks;
DROP TABLE nurture_sends;
DROP TABLE nurture_enrolments;
DROP TABLE nurture_sequences;

-- +goose Up
-- Times are unix microseconds (UTC) in both databases so that every query
-- is portable and ordering is numeric.
CREATE TABLE sources (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    key_hash     TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    key_hash     TEXT    NOT NULL UNIQUE,
    prefix       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE leads (
    id              INTEGER PRIMARY KEY,
    email           TEXT,
    name            TEXT    NOT NULL DEFAULT '',
    company         TEXT    NOT NULL DEFAULT '',
    title           TEXT    NOT NULL DEFAULT '',
    industry        TEXT    NOT NULL DEFAULT '',
    employees       INTEGER NOT NULL DEFAULT 0,
    country         TEXT    NOT NULL DEFAULT '',
    region          TEXT    NOT NULL DEFAULT '',
    phone           TEXT    NOT NULL DEFAULT '',
    first_touch     TEXT    NOT NULL DEFAULT '{}',
    last_touch      TEXT    NOT NULL DEFAULT '{}',
    source          TEXT    NOT NULL DEFAULT '',
    campaign        TEXT    NOT NULL DEFAULT '',
    consent         INTEGER NOT NULL DEFAULT 0,
    unsubscribed    INTEGER NOT NULL DEFAULT 0,
    traits          TEXT    NOT NULL DEFAULT '{}',
    bant            TEXT    NOT NULL DEFAULT '{}',
    stage           TEXT    NOT NULL DEFAULT 'lead',
    stage_at        INTEGER NOT NULL,
    score           REAL    NOT NULL DEFAULT 0,
    fit_score       REAL    NOT NULL DEFAULT 0,
    behavior_score  REAL    NOT NULL DEFAULT 0,
    scored_at       INTEGER NOT NULL DEFAULT 0,
    next_decay_at   INTEGER,
    model_version   INTEGER NOT NULL DEFAULT 0,
    owner           TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    erased_at       INTEGER
);
CREATE UNIQUE INDEX leads_email ON leads (email) WHERE email IS NOT NULL;
CREATE INDEX leads_stage_score ON leads (stage, score);
CREATE INDEX leads_score ON leads (score, id);
CREATE INDEX leads_updated ON leads (updated_at, id);
CREATE INDEX leads_next_decay ON leads (next_decay_at) WHERE next_decay_at IS NOT NULL;

-- How a lead is known: its Segment userId(s) and anonymousId(s).
CREATE TABLE lead_identities (
    kind       TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    lead_id    INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (kind, value)
) WITHOUT ROWID;
CREATE INDEX lead_identities_lead ON lead_identities (lead_id);

CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    source_id    INTEGER NOT NULL,
    message_id   TEXT    NOT NULL,
    lead_id      INTEGER REFERENCES leads (id) ON DELETE CASCADE,
    anonymous_id TEXT    NOT NULL DEFAULT '',
    user_id      TEXT    NOT NULL DEFAULT '',
    type         TEXT    NOT NULL,
    name         TEXT    NOT NULL DEFAULT '',
    properties   TEXT    NOT NULL DEFAULT '{}',
    context      TEXT    NOT NULL DEFAULT '{}',
    ts           INTEGER NOT NULL,
    received_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_message ON events (source_id, message_id);
CREATE INDEX events_lead_ts ON events (lead_id, ts);
CREATE INDEX events_anonymous ON events (anonymous_id) WHERE lead_id IS NULL;

-- Behavior rules of the active model that an event matched: the compact
-- form the score is computed from without re-reading events.
CREATE TABLE score_hits (
    lead_id   INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    event_id  INTEGER NOT NULL,
    rule      TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    points    REAL    NOT NULL,
    label     TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (lead_id, event_id, rule)
) WITHOUT ROWID;

CREATE TABLE transitions (
    id          INTEGER PRIMARY KEY,
    lead_id     INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    from_stage  TEXT    NOT NULL,
    to_stage    TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    cause       TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    score       REAL    NOT NULL DEFAULT 0,
    explanation TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX transitions_lead ON transitions (lead_id, at);
CREATE INDEX transitions_at ON transitions (at, to_stage);

CREATE TABLE models (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    active     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE rescore_runs (
    id            INTEGER PRIMARY KEY,
    model_version INTEGER NOT NULL,
    status        TEXT    NOT NULL,
    total         INTEGER NOT NULL DEFAULT 0,
    done          INTEGER NOT NULL DEFAULT 0,
    changed       INTEGER NOT NULL DEFAULT 0,
    last_lead_id  INTEGER NOT NULL DEFAULT 0,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    error         TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    entity    TEXT    NOT NULL,
    entity_id INTEGER NOT NULL,
    detail    TEXT    NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE rescore_runs;
DROP TABLE models;
DROP TABLE transitions;
DROP TABLE score_hits;
DROP TABLE events;
DROP TABLE lead_identities;
DROP TABLE leads;
DROP TABLE api_keys;
DROP TABLE sources;

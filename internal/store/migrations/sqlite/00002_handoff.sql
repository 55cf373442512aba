-- +goose Up
-- Handoff to sales: users and teams, assignments, sales touches, deals,
-- SLA clocks, webhook endpoints and deliveries, and settings documents.
CREATE TABLE teams (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    manager     TEXT    NOT NULL DEFAULT '',   -- user name of the manager (escalations)
    rr_last     TEXT    NOT NULL DEFAULT '',   -- round robin: user name assigned last
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,    -- login / owner name
    display_name   TEXT    NOT NULL DEFAULT '',
    email          TEXT    NOT NULL DEFAULT '',
    role           TEXT    NOT NULL,           -- admin, marketing, sales, manager, viewer
    team           TEXT    NOT NULL DEFAULT '',
    active         INTEGER NOT NULL DEFAULT 1,
    max_open_leads INTEGER NOT NULL DEFAULT 0, -- 0: no limit
    password_hash  TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX users_team ON users (team, active);

ALTER TABLE leads ADD COLUMN team TEXT NOT NULL DEFAULT '';
CREATE INDEX leads_owner_stage ON leads (owner, stage);

CREATE TABLE assignments (
    id             INTEGER PRIMARY KEY,
    lead_id        INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    owner          TEXT    NOT NULL DEFAULT '', -- user name, '' when queued
    team           TEXT    NOT NULL DEFAULT '',
    queue          TEXT    NOT NULL DEFAULT '', -- fallback queue when no rule matched
    rule           TEXT    NOT NULL DEFAULT '',
    previous_owner TEXT    NOT NULL DEFAULT '',
    actor          TEXT    NOT NULL,
    at             INTEGER NOT NULL
);
CREATE INDEX assignments_lead ON assignments (lead_id, at);

CREATE TABLE touches (
    id         INTEGER PRIMARY KEY,
    lead_id    INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    actor      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,                -- call, email, meeting, other
    outcome    TEXT    NOT NULL DEFAULT '',
    note       TEXT    NOT NULL DEFAULT '',
    at         INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX touches_lead ON touches (lead_id, at);

CREATE TABLE deals (
    id          INTEGER PRIMARY KEY,
    lead_id     INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    external_id TEXT    NOT NULL,
    name        TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL,               -- open, won, lost
    amount      REAL    NOT NULL DEFAULT 0,
    currency    TEXT    NOT NULL DEFAULT 'JPY',
    reason      TEXT    NOT NULL DEFAULT '',
    at          INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX deals_external ON deals (external_id);
CREATE INDEX deals_lead ON deals (lead_id);

CREATE TABLE sla_clocks (
    id          INTEGER PRIMARY KEY,
    lead_id     INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    stage       TEXT    NOT NULL,
    policy      TEXT    NOT NULL,
    owner       TEXT    NOT NULL DEFAULT '',
    started_at  INTEGER NOT NULL,
    warn_at     INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    status      TEXT    NOT NULL,               -- running, met, breached, canceled
    stopped_at  INTEGER,
    warned_at   INTEGER,
    breached_at INTEGER,
    stopped_by  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sla_clocks_lead ON sla_clocks (lead_id, status);
CREATE INDEX sla_clocks_due ON sla_clocks (status, due_at);

CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY,
    url             TEXT    NOT NULL,
    secret          TEXT    NOT NULL,           -- whsec_… (Standard Webhooks)
    event_types     TEXT    NOT NULL DEFAULT '[]',
    description     TEXT    NOT NULL DEFAULT '',
    active          INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id            INTEGER PRIMARY KEY,
    endpoint_id   INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    message_id    TEXT    NOT NULL,             -- webhook-id header, stable across retries
    event_type    TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    status        TEXT    NOT NULL,             -- pending, delivered, failed, gone
    attempts      INTEGER NOT NULL DEFAULT 0,
    response_code INTEGER NOT NULL DEFAULT 0,
    response_body TEXT    NOT NULL DEFAULT '',
    error         TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    last_attempt_at INTEGER,
    delivered_at  INTEGER
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- Settings documents (routing rules, SLA policies, calendar, rejection
-- reasons, notification channels), YAML text validated by the owning package.
CREATE TABLE settings (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_by TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE sla_clocks;
DROP TABLE deals;
DROP TABLE touches;
DROP TABLE assignments;
DROP INDEX leads_owner_stage;
ALTER TABLE leads DROP COLUMN team;
DROP TABLE users;
DROP TABLE teams;

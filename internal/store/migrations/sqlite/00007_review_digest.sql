-- +goose Up
-- The weekly review digest (docs/kpis.md "Review report"): who subscribes
-- (and in which language), and every digest sent, one row per period and
-- user, so a digest is never sent twice for the same period.
CREATE TABLE review_subscriptions (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    lang       TEXT    NOT NULL DEFAULT 'ja',  -- ja or en
    created_at INTEGER NOT NULL
);

CREATE TABLE review_digests (
    period  TEXT    NOT NULL,                  -- ISO week of the report, e.g. 2026-W47
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (period, user_id)
);

-- +goose Down
DROP TABLE review_digests;
DROP TABLE review_subscriptions;

-- +goose Up
-- Web UI sessions. Only a hash of the session token is stored, so a copy
-- of the database opens no session. A session ends at logout, after an
-- idle period (last_seen_at) or at expires_at, whichever comes first.
CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    user_name    TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    user_agent   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_name);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;

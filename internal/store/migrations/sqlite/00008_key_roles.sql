-- +goose Up
-- API keys carry a role of the permission matrix (internal/auth); the keys
-- that existed before roles keep doing everything they did: admin.
ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
-- Write keys of event sources can be revoked (settings page).
ALTER TABLE sources ADD COLUMN revoked_at INTEGER;

-- +goose Down
ALTER TABLE sources DROP COLUMN revoked_at;
ALTER TABLE api_keys DROP COLUMN role;

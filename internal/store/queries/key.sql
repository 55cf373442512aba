-- Write keys of event sources and API keys; only hashes are stored.

-- name: SourceInsert
INSERT INTO sources (name, key_hash, created_at) VALUES (?, ?, ?) RETURNING id

-- name: SourceByKey
SELECT id, name FROM sources WHERE key_hash = ? AND revoked_at IS NULL

-- name: SourceList
SELECT id, name, created_at, revoked_at FROM sources ORDER BY id

-- name: SourceRevoke
UPDATE sources SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL

-- name: APIKeyInsert
INSERT INTO api_keys (name, key_hash, prefix, created_at, role, user_name) VALUES (?, ?, ?, ?, ?, ?) RETURNING id

-- name: APIKeyByHash
SELECT k.id, k.name, k.prefix, k.role, k.user_name, u.role, u.team, u.active
FROM api_keys k LEFT JOIN users u ON u.name = k.user_name AND k.user_name <> ''
WHERE k.key_hash = ? AND k.revoked_at IS NULL

-- name: UserNameByEmail
SELECT name FROM users WHERE lower(email) = ? ORDER BY id LIMIT 1

-- name: APIKeyList
SELECT id, name, prefix, role, user_name, created_at, last_used_at, revoked_at FROM api_keys ORDER BY id

-- name: APIKeyRevoke
UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL

-- name: AuditInsert
INSERT INTO audit_log (at, actor, action, entity, entity_id, detail) VALUES (?, ?, ?, ?, ?, ?)

-- name: AuditOfEntity
SELECT id, at, actor, action, entity, entity_id, detail FROM audit_log WHERE entity = ? AND entity_id = ? ORDER BY id

-- name: QueueDepth
SELECT count(*) FROM river_job WHERE state IN ('available', 'scheduled', 'retryable')

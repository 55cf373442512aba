-- Web UI sessions and user passwords (internal/auth hashes them).

-- name: SessionInsert
INSERT INTO sessions (token_hash, user_name, created_at, last_seen_at, expires_at, user_agent)
VALUES (?, ?, ?, ?, ?, ?)

-- A session is only as good as its user: a deactivated user's sessions
-- stop working at once.
-- name: SessionByHash
SELECT s.token_hash, s.user_name, s.created_at, s.last_seen_at, s.expires_at,
       u.display_name, u.email, u.role, u.team
FROM sessions s JOIN users u ON u.name = s.user_name
WHERE s.token_hash = ? AND u.active = ?

-- name: SessionTouch
UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?

-- name: SessionDelete
DELETE FROM sessions WHERE token_hash = ?

-- name: SessionDeleteOfUser
DELETE FROM sessions WHERE user_name = ?

-- name: SessionDeleteExpired
DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?

-- name: PasswordOfUser
SELECT password_hash, active FROM users WHERE name = ?

-- name: PasswordSet
UPDATE users SET password_hash = ?, updated_at = ? WHERE name = ?

-- name: PasswordUsersCount
SELECT count(*) FROM users WHERE password_hash <> '' AND active = ? AND role = ?

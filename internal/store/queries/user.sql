-- Users: the people leads are assigned to, referenced by name everywhere.
-- password_hash is never read here.

-- name: UserInsert
INSERT INTO users (name, display_name, email, role, team, active, max_open_leads, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id

-- name: UserByName
SELECT id, name, display_name, email, role, team, active, max_open_leads, created_at, updated_at
FROM users WHERE name = ?

-- name: UserUpdate
UPDATE users SET display_name = ?, email = ?, role = ?, team = ?, active = ?, max_open_leads = ?, updated_at = ?
WHERE name = ?

-- The first of each pair of arguments switches its filter off.
-- name: UserList
SELECT id, name, display_name, email, role, team, active, max_open_leads, created_at, updated_at
FROM users WHERE (? OR team = ?) AND (? OR active = ?) ORDER BY name

-- Open leads are those in mql, sal, sql and hql: the ones a rep works.
-- name: OpenLeadCountsOfTeam
SELECT l.owner, count(*) FROM leads l JOIN users u ON u.name = l.owner
WHERE u.team = ? AND l.stage IN ('mql', 'sal', 'sql', 'hql') AND l.erased_at IS NULL
GROUP BY l.owner

-- name: OpenLeadCountsAll
SELECT owner, count(*) FROM leads
WHERE owner <> '' AND stage IN ('mql', 'sal', 'sql', 'hql') AND erased_at IS NULL
GROUP BY owner

-- name: OpenLeadCountOfOwner
SELECT count(*) FROM leads WHERE owner = ? AND stage IN ('mql', 'sal', 'sql', 'hql') AND erased_at IS NULL

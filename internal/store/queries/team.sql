-- Teams of users, with the round-robin position of routing.

-- name: TeamInsert
INSERT INTO teams (name, manager, created_at) VALUES (?, ?, ?) RETURNING id

-- name: TeamByName
SELECT id, name, manager, rr_last, created_at FROM teams WHERE name = ?

-- name: TeamList
SELECT id, name, manager, rr_last, created_at FROM teams ORDER BY name

-- name: TeamUpdate
UPDATE teams SET manager = ? WHERE name = ?

-- name: TeamSetRoundRobin
UPDATE teams SET rr_last = ? WHERE name = ?

-- A no-op write that locks the team's row until the transaction ends, so
-- that two concurrent routings in one team take turns (PostgreSQL; SQLite
-- has one writer anyway).
-- name: TeamLock
UPDATE teams SET rr_last = rr_last WHERE name = ?

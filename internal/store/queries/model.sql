-- Scoring model versions.

-- name: ModelInsert
INSERT INTO models (version, name, source, created_by, created_at, active) VALUES (?, ?, ?, ?, ?, ?)

-- name: ModelMaxVersion
SELECT coalesce(max(version), 0) FROM models

-- name: ModelActive
SELECT version, name, source, created_by, created_at, active FROM models WHERE active = ? ORDER BY version DESC LIMIT 1

-- name: ModelByVersion
SELECT version, name, source, created_by, created_at, active FROM models WHERE version = ?

-- name: ModelList
SELECT version, name, source, created_by, created_at, active FROM models ORDER BY version DESC

-- name: ModelDeactivateAll
UPDATE models SET active = ? WHERE active = ?

-- name: ModelActivate
UPDATE models SET active = ? WHERE version = ?

-- Background rescoring after a model change.

-- name: RescoreInsert
INSERT INTO rescore_runs (model_version, status, total, started_at) VALUES (?, ?, ?, ?) RETURNING id

-- name: RescoreByID
SELECT id, model_version, status, total, done, changed, last_lead_id, started_at, finished_at, error
FROM rescore_runs WHERE id = ?

-- name: RescoreLatest
SELECT id, model_version, status, total, done, changed, last_lead_id, started_at, finished_at, error
FROM rescore_runs ORDER BY id DESC LIMIT 1

-- name: RescoreProgress
UPDATE rescore_runs SET done = ?, changed = ?, last_lead_id = ?, status = ? WHERE id = ?

-- name: RescoreFinish
UPDATE rescore_runs SET status = ?, finished_at = ?, error = ? WHERE id = ?

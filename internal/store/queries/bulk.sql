-- Bulk rescoring: read leads and events range by range, write back only
-- the scores that changed.

-- Erased leads count too: stepping over ids alone is a few times cheaper
-- than reading each row's erased_at, and a chunk then holds at most n
-- live leads.
-- name: BulkChunkEnd
SELECT id FROM leads WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?

-- name: BulkMaxLeadID
SELECT coalesce(max(id), 0) FROM leads

-- name: BulkLeads
SELECT id, email, name, company, title, industry, employees, country, region, phone,
       first_touch, last_touch, consent, unsubscribed, traits, bant, stage, stage_at,
       score, fit_score, behavior_score, scored_at, next_decay_at, model_version, owner,
       team, created_at, updated_at
FROM leads WHERE id > ? AND id <= ? AND erased_at IS NULL ORDER BY id

-- Events of a lead range in lead order (the (lead_id, ts) index gives the
-- order), with only the columns the model reads.

-- name: BulkEventsBare
SELECT lead_id, id, type, name, ts FROM events WHERE lead_id > ? AND lead_id <= ? ORDER BY lead_id

-- name: BulkEventsProps
SELECT lead_id, id, type, name, ts, properties FROM events WHERE lead_id > ? AND lead_id <= ? ORDER BY lead_id

-- name: BulkEventsAll
SELECT lead_id, id, type, name, ts, properties, context FROM events WHERE lead_id > ? AND lead_id <= ? ORDER BY lead_id

-- A score written back only when the lead was not changed since it was
-- read (an event scored it under the new model meanwhile).

-- name: BulkScoreUpdate
UPDATE leads SET score = ?, fit_score = ?, behavior_score = ?, scored_at = ?, next_decay_at = ?, updated_at = ?
WHERE id = ? AND updated_at = ?

-- Bulk loading of generated histories (SQLite; PostgreSQL uses COPY).

-- name: BulkMaxEventID
SELECT coalesce(max(id), 0) FROM events

-- One row of each; the loader repeats the VALUES tuple for multi-row inserts.

-- name: BulkLeadInsert
INSERT INTO leads (id, email, name, company, title, industry, employees, country, region, phone,
       first_touch, last_touch, source, campaign, consent, unsubscribed, traits, bant, stage, stage_at,
       score, fit_score, behavior_score, scored_at, next_decay_at, model_version, owner,
       created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)

-- name: BulkIdentityInsert
INSERT INTO lead_identities (kind, value, lead_id, created_at) VALUES (?, ?, ?, ?)

-- name: BulkEventInsert
INSERT INTO events (id, source_id, message_id, lead_id, anonymous_id, user_id, type, name,
       properties, context, ts, received_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)

-- name: BulkHitInsert
INSERT INTO score_hits (lead_id, event_id, rule, at, points, label) VALUES (?, ?, ?, ?, ?, ?)

-- The compact scoring copy of events (migration 00006): a lead range's
-- rows in (lead, time, id) order, and the signature dictionary.

-- A lead range's packs (migration 00013) and tail rows in one statement,
-- so both come from one snapshot: a pack row has data (n events), a tail
-- row event_id, ts and sig. The reader merges them per lead.
-- name: BulkCompactEvents
SELECT lead_id, 0, 0, 0, data FROM event_packs WHERE lead_id > ? AND lead_id <= ?
UNION ALL
SELECT lead_id, event_id, ts, sig, NULL FROM event_scores WHERE lead_id > ? AND lead_id <= ?

-- name: BulkEventSigs
SELECT id, type, name, path FROM event_sigs WHERE id > ? ORDER BY id

-- Packing (store.PackEvents): the lead whose tail row is the n-th after a
-- lead id, so a batch takes about n rows.
-- name: PackBatchEnd
SELECT lead_id FROM event_scores WHERE lead_id > ? ORDER BY lead_id, ts, event_id LIMIT 1 OFFSET ?

-- name: PackTailTake
DELETE FROM event_scores WHERE lead_id > ? AND lead_id <= ? RETURNING lead_id, event_id, ts, sig

-- Packs of a list of leads (a JSON array here, an array on PostgreSQL).
-- name: PackRead
SELECT lead_id, data FROM event_packs WHERE lead_id IN (SELECT value FROM json_each(?))

-- name: PackDelete
DELETE FROM event_packs WHERE lead_id IN (SELECT value FROM json_each(?))

-- name: PackInsert
INSERT INTO event_packs (lead_id, n, data) VALUES (?, ?, ?)

-- name: PackLock
SELECT 1

-- name: PackCount
SELECT (SELECT count(*) FROM event_packs), (SELECT coalesce(sum(n), 0) FROM event_packs), (SELECT count(*) FROM event_scores)

-- A lean lead read for a rescore or backtest: the columns every bulk
-- scorer uses; store.LeadsInRangeRead puts the columns the model's rules
-- read (a fixed list of column names) in place of the comment.
-- name: BulkLeadsLean
SELECT id, stage, score, fit_score, behavior_score, next_decay_at, updated_at /*COLS*/
FROM leads WHERE id > ? AND id <= ? AND erased_at IS NULL ORDER BY id

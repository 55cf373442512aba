-- Events are immutable; only their lead link changes when a visitor is identified.

-- name: EventInsert
INSERT INTO events (source_id, message_id, lead_id, anonymous_id, user_id, type, name,
       properties, context, ts, received_at, client_ts)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (source_id, client_ts, message_id) DO NOTHING
RETURNING id

-- The last events stored, for the window of recent message ids
-- (store/recent_msgs.go).
-- name: EventsRecent
SELECT id, source_id, message_id FROM events ORDER BY id DESC LIMIT ?

-- name: EventsByIDs
SELECT id, source_id, message_id FROM events WHERE id IN (SELECT j.value FROM json_each(?) j)

-- name: EventsOfLead
SELECT id, source_id, message_id, lead_id, anonymous_id, user_id, type, name, properties, context, ts, received_at
FROM events WHERE lead_id = ? ORDER BY ts, id

-- name: EventsMove
UPDATE events SET lead_id = ? WHERE lead_id = ?

-- name: EventsDeleteOfLead
DELETE FROM events WHERE lead_id = ?

-- name: EventCount
SELECT count(*) FROM events

-- Behavior rule hits of the active model.

-- name: HitInsert
INSERT INTO score_hits (lead_id, event_id, rule, at, points, label) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (lead_id, event_id, rule) DO NOTHING

-- name: HitsOfLead
SELECT event_id, rule, at, points, label FROM score_hits WHERE lead_id = ?

-- name: HitsDelete
DELETE FROM score_hits WHERE lead_id = ?

-- name: HitsMove
UPDATE score_hits SET lead_id = ? WHERE lead_id = ?

-- Stage transitions.

-- name: TransitionInsert
INSERT INTO transitions (lead_id, from_stage, to_stage, at, cause, reason, score, explanation)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id

-- name: TransitionsOfLead
SELECT id, lead_id, from_stage, to_stage, at, cause, reason, score, explanation
FROM transitions WHERE lead_id = ? ORDER BY at, id

-- name: TransitionsMove
UPDATE transitions SET lead_id = ? WHERE lead_id = ?

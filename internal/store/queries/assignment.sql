-- Assignment history: every change of a lead's owner or queue.

-- name: AssignmentInsert
INSERT INTO assignments (lead_id, owner, team, queue, rule, previous_owner, actor, at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id

-- name: AssignmentsOfLead
SELECT id, lead_id, owner, team, queue, rule, previous_owner, actor, at
FROM assignments WHERE lead_id = ? ORDER BY at, id

-- name: AssignmentLatest
SELECT id, lead_id, owner, team, queue, rule, previous_owner, actor, at
FROM assignments WHERE lead_id = ? ORDER BY at DESC, id DESC LIMIT 1

-- For MergeLeads: (into, from).
-- name: AssignmentsMove
UPDATE assignments SET lead_id = ? WHERE lead_id = ?

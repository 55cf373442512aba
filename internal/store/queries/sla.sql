-- SLA clocks: one row per lead and policy each time the lead enters the
-- policy's stage. status: running → met | breached | canceled. Times are
-- unix microseconds. The conditional updates (… AND status = 'running')
-- are what keep a timer from firing twice.

-- name: ClockInsert
INSERT INTO sla_clocks (lead_id, stage, policy, owner, started_at, warn_at, due_at, status)
VALUES (?, ?, ?, ?, ?, ?, ?, 'running') RETURNING id

-- name: ClockByID
SELECT id, lead_id, stage, policy, owner, started_at, warn_at, due_at, status,
       stopped_at, warned_at, breached_at, stopped_by
FROM sla_clocks WHERE id = ?

-- name: ClocksOfLead
SELECT id, lead_id, stage, policy, owner, started_at, warn_at, due_at, status,
       stopped_at, warned_at, breached_at, stopped_by
FROM sla_clocks WHERE lead_id = ? ORDER BY started_at, id

-- name: ClocksOpenOfLead
SELECT id, lead_id, stage, policy, owner, started_at, warn_at, due_at, status,
       stopped_at, warned_at, breached_at, stopped_by
FROM sla_clocks WHERE lead_id = ? AND status IN ('running', 'breached') AND stopped_at IS NULL
ORDER BY started_at, id

-- Stops one clock at its target. A running clock stopped after its
-- deadline (the breach timer had not run yet) is recorded as breached at
-- the deadline; a breached clock keeps its status and gets its stop time,
-- so "how late" stays measurable.
-- name: ClockStop
UPDATE sla_clocks SET
       status = CASE WHEN status <> 'running' THEN status WHEN ? > due_at THEN 'breached' ELSE 'met' END,
       breached_at = CASE WHEN status = 'running' AND ? > due_at THEN due_at ELSE breached_at END,
       stopped_at = ?, stopped_by = ?
WHERE id = ? AND status IN ('running', 'breached') AND stopped_at IS NULL

-- Closes the open clocks of a lead outside a stage (the lead left it):
-- running clocks are canceled, or breached when already past due.
-- name: ClocksClose
UPDATE sla_clocks SET
       status = CASE WHEN status <> 'running' THEN status WHEN ? > due_at THEN 'breached' ELSE 'canceled' END,
       breached_at = CASE WHEN status = 'running' AND ? > due_at THEN due_at ELSE breached_at END,
       stopped_at = ?, stopped_by = ?
WHERE lead_id = ? AND stage <> ? AND status IN ('running', 'breached') AND stopped_at IS NULL

-- name: ClockMarkWarned
UPDATE sla_clocks SET warned_at = ?
WHERE id = ? AND status = 'running' AND warned_at IS NULL AND due_at > ?

-- name: ClockMarkBreached
UPDATE sla_clocks SET status = 'breached', breached_at = ?
WHERE id = ? AND status = 'running'

-- name: ClocksReown
UPDATE sla_clocks SET owner = ? WHERE lead_id = ? AND status = 'running'

-- name: ClockCompliance
SELECT policy, owner, status, count(*),
       sum(CASE WHEN warned_at IS NOT NULL THEN 1 ELSE 0 END)
FROM sla_clocks WHERE started_at >= ? AND started_at < ?
GROUP BY policy, owner, status ORDER BY policy, owner, status

-- Escalation. Routing owns teams and assignments; these are the few reads
-- and the one write an SLA breach needs.

-- name: SLATeamManager
SELECT manager FROM teams WHERE name = ?

-- name: SLAUserTeam
SELECT team FROM users WHERE name = ?

-- Active members of a team (viewers excluded) who have not yet held a
-- clock of the policy for this lead since it entered the stage.
-- name: SLAReassignCandidates
SELECT name FROM users
WHERE team = ? AND active AND role <> 'viewer'
  AND name NOT IN (SELECT owner FROM sla_clocks WHERE lead_id = ? AND policy = ? AND started_at >= ?)
ORDER BY name

-- name: SLALeadReassign
UPDATE leads SET owner = ?, team = ?, updated_at = ? WHERE id = ? AND owner = ? AND erased_at IS NULL

-- name: SLAAssignmentInsert
INSERT INTO assignments (lead_id, owner, team, rule, previous_owner, actor, at)
VALUES (?, ?, ?, ?, ?, ?, ?)

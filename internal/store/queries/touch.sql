-- Sales touches (calls, emails, meetings) and deals from the CRM.

-- name: TouchInsert
INSERT INTO touches (lead_id, actor, kind, outcome, note, at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id

-- name: TouchesOfLead
SELECT id, lead_id, actor, kind, outcome, note, at, created_at FROM touches WHERE lead_id = ? ORDER BY at DESC, id DESC

-- name: DealByExternalID
SELECT id, lead_id, external_id, name, status, amount, currency, reason, at, updated_at FROM deals WHERE external_id = ?

-- name: DealInsert
INSERT INTO deals (lead_id, external_id, name, status, amount, currency, reason, at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id

-- name: DealUpdate
UPDATE deals SET lead_id = ?, name = ?, status = ?, amount = ?, currency = ?, reason = ?, at = ?, updated_at = ? WHERE id = ?

-- name: DealsOfLead
SELECT id, lead_id, external_id, name, status, amount, currency, reason, at, updated_at FROM deals WHERE lead_id = ? ORDER BY at DESC, id DESC

-- Set-wise reads of the ingestion path: one statement per batch instead of
-- one per message. The values come as one JSON array argument, so the
-- statement text (and its prepared plan) is the same for every batch.

-- name: LeadIDsByIdentities
SELECT i.value, i.lead_id FROM lead_identities i
WHERE i.kind = ? AND i.value IN (SELECT j.value FROM json_each(?) j)

-- name: LeadsByIDs
SELECT id, email, name, company, title, industry, employees, country, region, phone,
       first_touch, last_touch, consent, unsubscribed, traits, bant, stage, stage_at,
       score, fit_score, behavior_score, scored_at, next_decay_at, model_version, owner,
       team, created_at, updated_at
FROM leads WHERE id IN (SELECT j.value FROM json_each(?) j) AND erased_at IS NULL

-- name: HitsOfLeads
SELECT lead_id, event_id, rule, at, points, label FROM score_hits
WHERE lead_id IN (SELECT j.value FROM json_each(?) j)

-- PostgreSQL forms of queries/ingest.sql.

-- name: LeadIDsByIdentities
SELECT value, lead_id FROM lead_identities
WHERE kind = ? AND value = ANY (SELECT jsonb_array_elements_text(?::jsonb))

-- name: LeadsByIDs
SELECT id, email, name, company, title, industry, employees, country, region, phone,
       first_touch, last_touch, consent, unsubscribed, traits, bant, stage, stage_at,
       score, fit_score, behavior_score, scored_at, next_decay_at, model_version, owner,
       team, created_at, updated_at
FROM leads WHERE id = ANY (SELECT jsonb_array_elements_text(?::jsonb)::bigint) AND erased_at IS NULL

-- name: HitsOfLeads
SELECT lead_id, event_id, rule, at, points, label FROM score_hits
WHERE lead_id = ANY (SELECT jsonb_array_elements_text(?::jsonb)::bigint)

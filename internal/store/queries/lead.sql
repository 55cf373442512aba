-- Leads and how they are known.

-- name: LeadByID
SELECT id, email, name, company, title, industry, employees, country, region, phone,
       first_touch, last_touch, consent, unsubscribed, traits, bant, stage, stage_at,
       score, fit_score, behavior_score, scored_at, next_decay_at, model_version, owner,
       team, created_at, updated_at
FROM leads WHERE id = ? AND erased_at IS NULL

-- name: LeadByEmail
SELECT id, email, name, company, title, industry, employees, country, region, phone,
       first_touch, last_touch, consent, unsubscribed, traits, bant, stage, stage_at,
       score, fit_score, behavior_score, scored_at, next_decay_at, model_version, owner,
       team, created_at, updated_at
FROM leads WHERE email = ? AND erased_at IS NULL

-- name: LeadIDByIdentity
SELECT lead_id FROM lead_identities WHERE kind = ? AND value = ?

-- name: LeadInsert
INSERT INTO leads (email, name, company, title, industry, employees, country, region, phone,
       first_touch, last_touch, source, campaign, consent, unsubscribed, traits, bant, stage, stage_at,
       score, fit_score, behavior_score, scored_at, next_decay_at, model_version, owner, team,
       created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING id

-- name: LeadUpdate
UPDATE leads SET email = ?, name = ?, company = ?, title = ?, industry = ?, employees = ?,
       country = ?, region = ?, phone = ?, first_touch = ?, last_touch = ?, source = ?, campaign = ?,
       consent = ?, unsubscribed = ?, traits = ?, bant = ?, stage = ?, stage_at = ?,
       score = ?, fit_score = ?, behavior_score = ?, scored_at = ?, next_decay_at = ?,
       model_version = ?, owner = ?, team = ?, updated_at = ?
WHERE id = ?

-- name: LeadScoreUpdate
UPDATE leads SET score = ?, fit_score = ?, behavior_score = ?, scored_at = ?, next_decay_at = ?,
       model_version = ?
WHERE id = ?

-- name: LeadErase
UPDATE leads SET email = NULL, name = '', company = '', title = '', phone = '', traits = '{}',
       bant = '{}', first_touch = '{}', last_touch = '{}', region = '', erased_at = ?, updated_at = ?
WHERE id = ? AND erased_at IS NULL

-- name: LeadDelete
DELETE FROM leads WHERE id = ?

-- name: IdentityInsert
INSERT INTO lead_identities (kind, value, lead_id, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (kind, value) DO NOTHING

-- name: IdentitiesOfLead
SELECT kind, value FROM lead_identities WHERE lead_id = ? ORDER BY created_at, value

-- name: IdentitiesMove
UPDATE lead_identities SET lead_id = ? WHERE lead_id = ?

-- name: IdentitiesDelete
DELETE FROM lead_identities WHERE lead_id = ?

-- name: LeadIDsDecayDue
SELECT id FROM leads WHERE next_decay_at IS NOT NULL AND next_decay_at <= ? AND erased_at IS NULL
ORDER BY next_decay_at LIMIT ?

-- name: LeadIDsAfter
SELECT id FROM leads WHERE id > ? AND erased_at IS NULL ORDER BY id LIMIT ?

-- name: LeadCount
SELECT count(*) FROM leads WHERE erased_at IS NULL

-- name: LeadIDsInStageSince
SELECT id FROM leads WHERE stage = ? AND stage_at <= ? AND erased_at IS NULL ORDER BY id LIMIT ?

-- Text search of the lead list: candidates from the FTS5 trigram index of
-- migration 00015 (the PostgreSQL override uses the trigram GIN indexes).
-- name: LeadSearchIDs
SELECT rowid FROM leads_search WHERE leads_search MATCH ? LIMIT ?

-- Erasure removes the lead's trigrams from the FTS5 index for good (on, the
-- erasing update, off again): see migration 00015.
-- name: LeadSearchSecureDelete
INSERT INTO leads_search (leads_search, rank) VALUES ('secure-delete', ?)

-- name: LeadOwnerTeam
SELECT owner, team FROM leads WHERE id = ? AND erased_at IS NULL

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

-- Multi-row writes of the ingestion path, with the rows as one JSON array
-- argument (one prepared statement whatever the batch size, and no
-- variable limit). An event row is [source_id, message_id, lead_id,
-- anonymous_id, user_id, type, name, properties, context, ts,
-- received_at, client_ts], properties and context as JSON objects (->> gives their
-- text; one nested too deep for SQLite comes as a string of its text).
-- WHERE true tells SQLite that ON CONFLICT is the upsert clause, not a
-- join constraint.

-- name: EventsInsert
INSERT INTO events (source_id, message_id, lead_id, anonymous_id, user_id, type, name,
       properties, context, ts, received_at, client_ts)
SELECT e.value ->> 0, e.value ->> 1, e.value ->> 2, e.value ->> 3, e.value ->> 4, e.value ->> 5,
       e.value ->> 6, e.value ->> 7, e.value ->> 8, e.value ->> 9, e.value ->> 10, e.value ->> 11
FROM jsonb_each(?) e WHERE true
ON CONFLICT (source_id, client_ts, message_id) DO NOTHING
RETURNING id, source_id, message_id

-- A hit row is [lead_id, event_id, rule, at, points, label].
-- name: HitsInsert
INSERT INTO score_hits (lead_id, event_id, rule, at, points, label)
SELECT h.value ->> 0, h.value ->> 1, h.value ->> 2, h.value ->> 3, h.value ->> 4, h.value ->> 5
FROM jsonb_each(?) h WHERE true
ON CONFLICT (lead_id, event_id, rule) DO NOTHING

-- A lead row is [id, email, name, company, title, industry, employees,
-- country, region, phone, first_touch, last_touch, source, campaign,
-- consent, unsubscribed, traits, bant, stage, stage_at, score, fit_score,
-- behavior_score, scored_at, next_decay_at, model_version, owner, team,
-- updated_at], the JSON columns as strings of their text (kept exactly).
-- name: LeadsUpdate
UPDATE leads SET email = v.value ->> 1, name = v.value ->> 2, company = v.value ->> 3,
       title = v.value ->> 4, industry = v.value ->> 5, employees = v.value ->> 6,
       country = v.value ->> 7, region = v.value ->> 8, phone = v.value ->> 9,
       first_touch = v.value ->> 10, last_touch = v.value ->> 11, source = v.value ->> 12,
       campaign = v.value ->> 13, consent = v.value ->> 14, unsubscribed = v.value ->> 15,
       traits = v.value ->> 16, bant = v.value ->> 17, stage = v.value ->> 18, stage_at = v.value ->> 19,
       score = v.value ->> 20, fit_score = v.value ->> 21, behavior_score = v.value ->> 22,
       scored_at = v.value ->> 23, next_decay_at = v.value ->> 24, model_version = v.value ->> 25,
       owner = v.value ->> 26, team = v.value ->> 27, updated_at = v.value ->> 28
FROM jsonb_each(?) AS v
WHERE leads.id = v.value ->> 0

-- LeadsUpdate without the columns of rareKeys (store/lead_update.go):
-- email, name, company, industry, source, campaign, stage and owner are
-- left alone, and with them their indexes and the search trigger.
-- name: LeadsUpdateScored
UPDATE leads SET title = v.value ->> 4, employees = v.value ->> 6,
       country = v.value ->> 7, region = v.value ->> 8, phone = v.value ->> 9,
       first_touch = v.value ->> 10, last_touch = v.value ->> 11,
       consent = v.value ->> 14, unsubscribed = v.value ->> 15,
       traits = v.value ->> 16, bant = v.value ->> 17, stage_at = v.value ->> 19,
       score = v.value ->> 20, fit_score = v.value ->> 21, behavior_score = v.value ->> 22,
       scored_at = v.value ->> 23, next_decay_at = v.value ->> 24, model_version = v.value ->> 25,
       team = v.value ->> 27, updated_at = v.value ->> 28
FROM jsonb_each(?) AS v
WHERE leads.id = v.value ->> 0

-- LeadsUpdateScored without score and next_decay_at either.
-- name: LeadsUpdateKept
UPDATE leads SET title = v.value ->> 4, employees = v.value ->> 6,
       country = v.value ->> 7, region = v.value ->> 8, phone = v.value ->> 9,
       first_touch = v.value ->> 10, last_touch = v.value ->> 11,
       consent = v.value ->> 14, unsubscribed = v.value ->> 15,
       traits = v.value ->> 16, bant = v.value ->> 17, stage_at = v.value ->> 19,
       fit_score = v.value ->> 21, behavior_score = v.value ->> 22,
       scored_at = v.value ->> 23, model_version = v.value ->> 25,
       team = v.value ->> 27, updated_at = v.value ->> 28
FROM jsonb_each(?) AS v
WHERE leads.id = v.value ->> 0

-- Links the stored events of anonymous visitors to their leads; a row is
-- [anonymous_id, lead_id]. INDEXED BY: without it SQLite walks
-- events_lead_ts for lead_id IS NULL, every anonymous event stored.
-- name: EventsAttachAnonymousMany
UPDATE events INDEXED BY events_anonymous SET lead_id = j.value ->> 1
FROM jsonb_each(?) j
WHERE events.anonymous_id = j.value ->> 0 AND events.lead_id IS NULL
RETURNING events.id, events.source_id, events.message_id, events.lead_id, events.anonymous_id, events.user_id,
          events.type, events.name, events.properties, events.context, events.ts, events.received_at

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

-- name: EventsInsert
INSERT INTO events (source_id, message_id, lead_id, anonymous_id, user_id, type, name,
       properties, context, ts, received_at, client_ts)
SELECT (e ->> 0)::bigint, e ->> 1, (e ->> 2)::bigint, e ->> 3, e ->> 4, e ->> 5,
       e ->> 6, e ->> 7, e ->> 8, (e ->> 9)::bigint, (e ->> 10)::bigint, (e ->> 11)::bigint
FROM jsonb_array_elements(?::jsonb) e
ON CONFLICT (source_id, client_ts, message_id) DO NOTHING
RETURNING id, source_id, message_id

-- name: HitsInsert
INSERT INTO score_hits (lead_id, event_id, rule, at, points, label)
SELECT (h ->> 0)::bigint, (h ->> 1)::bigint, h ->> 2, (h ->> 3)::bigint, (h ->> 4)::double precision, h ->> 5
FROM jsonb_array_elements(?::jsonb) h
ON CONFLICT (lead_id, event_id, rule) DO NOTHING

-- name: LeadsUpdate
UPDATE leads SET email = v ->> 1, name = v ->> 2, company = v ->> 3,
       title = v ->> 4, industry = v ->> 5, employees = (v ->> 6)::bigint,
       country = v ->> 7, region = v ->> 8, phone = v ->> 9,
       first_touch = v ->> 10, last_touch = v ->> 11, source = v ->> 12,
       campaign = v ->> 13, consent = (v ->> 14)::boolean, unsubscribed = (v ->> 15)::boolean,
       traits = v ->> 16, bant = v ->> 17, stage = v ->> 18, stage_at = (v ->> 19)::bigint,
       score = (v ->> 20)::double precision, fit_score = (v ->> 21)::double precision,
       behavior_score = (v ->> 22)::double precision, scored_at = (v ->> 23)::bigint,
       next_decay_at = (v ->> 24)::bigint, model_version = (v ->> 25)::bigint,
       owner = v ->> 26, team = v ->> 27, updated_at = (v ->> 28)::bigint
FROM jsonb_array_elements(?::jsonb) AS v
WHERE leads.id = (v ->> 0)::bigint

-- name: LeadsUpdateScored
UPDATE leads SET title = v ->> 4, employees = (v ->> 6)::bigint,
       country = v ->> 7, region = v ->> 8, phone = v ->> 9,
       first_touch = v ->> 10, last_touch = v ->> 11,
       consent = (v ->> 14)::boolean, unsubscribed = (v ->> 15)::boolean,
       traits = v ->> 16, bant = v ->> 17, stage_at = (v ->> 19)::bigint,
       score = (v ->> 20)::double precision, fit_score = (v ->> 21)::double precision,
       behavior_score = (v ->> 22)::double precision, scored_at = (v ->> 23)::bigint,
       next_decay_at = (v ->> 24)::bigint, model_version = (v ->> 25)::bigint,
       team = v ->> 27, updated_at = (v ->> 28)::bigint
FROM jsonb_array_elements(?::jsonb) AS v
WHERE leads.id = (v ->> 0)::bigint

-- name: LeadsUpdateKept
UPDATE leads SET title = v ->> 4, employees = (v ->> 6)::bigint,
       country = v ->> 7, region = v ->> 8, phone = v ->> 9,
       first_touch = v ->> 10, last_touch = v ->> 11,
       consent = (v ->> 14)::boolean, unsubscribed = (v ->> 15)::boolean,
       traits = v ->> 16, bant = v ->> 17, stage_at = (v ->> 19)::bigint,
       fit_score = (v ->> 21)::double precision,
       behavior_score = (v ->> 22)::double precision, scored_at = (v ->> 23)::bigint,
       model_version = (v ->> 25)::bigint,
       team = v ->> 27, updated_at = (v ->> 28)::bigint
FROM jsonb_array_elements(?::jsonb) AS v
WHERE leads.id = (v ->> 0)::bigint

-- name: EventsAttachAnonymousMany
UPDATE events SET lead_id = (j ->> 1)::bigint
FROM jsonb_array_elements(?::jsonb) j
WHERE events.anonymous_id = j ->> 0 AND events.lead_id IS NULL
RETURNING events.id, events.source_id, events.message_id, events.lead_id, events.anonymous_id, events.user_id,
          events.type, events.name, events.properties, events.context, events.ts, events.received_at

-- name: EventsByIDs
SELECT id, source_id, message_id FROM events
WHERE id = ANY (SELECT jsonb_array_elements_text(?::jsonb)::bigint)

-- Read models of the web UI: a rep's queue, the dashboard's funnel, trend,
-- SLA and sources, and the values the lead filters offer.

-- A rep's open leads with the nearest deadline of their open SLA clocks
-- (NULL when none runs); the caller orders them.
-- name: WebQueue
SELECT l.id, l.email, l.name, l.company, l.title, l.industry, l.employees, l.country, l.region, l.phone,
       l.first_touch, l.last_touch, l.consent, l.unsubscribed, l.traits, l.bant, l.stage, l.stage_at,
       l.score, l.fit_score, l.behavior_score, l.scored_at, l.next_decay_at, l.model_version, l.owner,
       l.team, l.created_at, l.updated_at,
       (SELECT min(c.due_at) FROM sla_clocks c
        WHERE c.lead_id = l.id AND c.stopped_at IS NULL AND c.status || '' IN ('running', 'breached')) AS due_at
FROM leads l
WHERE l.owner = ? AND l.stage IN ('mql', 'sal', 'sql', 'hql') AND l.erased_at IS NULL
LIMIT 500

-- The cohort funnel: the leads created in [from, to), each counted once at
-- the furthest funnel stage it ever reached (0 lead … 6 customer).
-- name: WebFunnel
SELECT r, count(*) FROM (
    SELECT l.id, max(CASE t.to_stage
        WHEN 'mql' THEN 1 WHEN 'sal' THEN 2 WHEN 'sql' THEN 3 WHEN 'hql' THEN 4
        WHEN 'opportunity' THEN 5 WHEN 'customer' THEN 6 ELSE 0 END) AS r
    FROM leads l LEFT JOIN transitions t ON t.lead_id = l.id
    WHERE l.created_at >= ? AND l.created_at < ? AND l.erased_at IS NULL
    GROUP BY l.id
) x GROUP BY r

-- Leads entering mql and sql in [from, to), in buckets of a given width
-- counted from `from`.
-- name: WebStageTrend
SELECT (at - ?) / ? AS bucket, to_stage, count(*) FROM transitions
WHERE at >= ? AND at < ? AND to_stage IN ('mql', 'sql')
GROUP BY 1, 2

-- Open SLA clocks: at risk (running, past the warning time), breached and
-- not yet met, running in total.
-- name: WebSLAStatus
SELECT coalesce(sum(CASE WHEN status = 'running' AND warn_at <= ? THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN status = 'breached' AND stopped_at IS NULL THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN status = 'running' THEN 1 ELSE 0 END), 0)
FROM sla_clocks WHERE status IN ('running', 'breached')

-- Sources of the leads created in [from, to) with how many are qualified
-- (mql or beyond) now.
-- name: WebTopSources
SELECT source, count(*), coalesce(sum(CASE WHEN stage IN ('mql', 'sal', 'sql', 'hql', 'opportunity', 'customer') THEN 1 ELSE 0 END), 0)
FROM leads WHERE created_at >= ? AND created_at < ? AND erased_at IS NULL
GROUP BY source ORDER BY count(*) DESC, source LIMIT 8

-- name: WebSources
SELECT DISTINCT source FROM leads WHERE source <> '' AND erased_at IS NULL ORDER BY source LIMIT 200

-- name: WebCampaigns
SELECT DISTINCT campaign FROM leads WHERE campaign <> '' AND erased_at IS NULL ORDER BY campaign LIMIT 200

-- name: WebIndustries
SELECT DISTINCT industry FROM leads WHERE industry <> '' AND erased_at IS NULL ORDER BY industry LIMIT 200

-- name: WebTeams
SELECT name FROM teams ORDER BY name

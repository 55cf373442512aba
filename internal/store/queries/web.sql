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

-- The dashboard's funnel and top sources read the KPI pre-aggregates
-- (store.Funnel, store.TopSources; queries/kpi.sql).

-- Leads entering mql and sql in [from, to), in buckets of a given width
-- counted from `from`.
-- name: WebStageTrend
SELECT (at - ?) / ? AS bucket, to_stage, count(*) FROM transitions
WHERE at >= ? AND at < ? AND to_stage IN ('mql', 'sql')
GROUP BY 1, 2

-- Open SLA clocks: at risk (running, past the warning time), breached and
-- not yet met, running in total; each a count of the index sla_clocks_open.
-- name: WebSLAStatus
SELECT (SELECT count(*) FROM sla_clocks WHERE status = 'running' AND warn_at <= ?),
       (SELECT count(*) FROM sla_clocks WHERE status = 'breached' AND stopped_at IS NULL),
       (SELECT count(*) FROM sla_clocks WHERE status = 'running')

-- name: WebSources
WITH RECURSIVE v(x) AS (
    SELECT (SELECT min(source) FROM leads WHERE source > '' AND erased_at IS NULL)
    UNION ALL
    SELECT (SELECT min(source) FROM leads WHERE source > v.x AND erased_at IS NULL) FROM v WHERE v.x IS NOT NULL
)
SELECT x FROM v WHERE x IS NOT NULL LIMIT 200

-- name: WebCampaigns
WITH RECURSIVE v(x) AS (
    SELECT (SELECT min(campaign) FROM leads WHERE campaign > '' AND erased_at IS NULL)
    UNION ALL
    SELECT (SELECT min(campaign) FROM leads WHERE campaign > v.x AND erased_at IS NULL) FROM v WHERE v.x IS NOT NULL
)
SELECT x FROM v WHERE x IS NOT NULL LIMIT 200

-- name: WebIndustries
WITH RECURSIVE v(x) AS (
    SELECT (SELECT min(industry) FROM leads WHERE industry > '' AND erased_at IS NULL)
    UNION ALL
    SELECT (SELECT min(industry) FROM leads WHERE industry > v.x AND erased_at IS NULL) FROM v WHERE v.x IS NOT NULL
)
SELECT x FROM v WHERE x IS NOT NULL LIMIT 200

-- name: WebTeams
SELECT name FROM teams ORDER BY name

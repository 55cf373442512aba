-- KPIs (analytics): the kpi_funnel summary, campaign costs, monthly targets
-- and the reads of the backtest. Periods are [from, to) in unix
-- microseconds. Buckets are computed here as (t + offset) / granularity,
-- an integer the caller maps to its weeks, months or quarters in the
-- report's time zone. The group parameter picks the breakdown column:
-- source, medium, campaign, industry, owner, team, or anything else for
-- none.

-- name: KPIStateGet
SELECT value FROM kpi_state WHERE key = ?

-- name: KPIStateSet
INSERT INTO kpi_state (key, value) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value

-- name: KPIStateDelete
DELETE FROM kpi_state WHERE key = ?

-- The leads a refresh rewrites: those changed after a watermark (the
-- first parameter) whose kpi_funnel row is missing or was built from
-- another updated_at, or whose updated_at is at or after the start of the
-- previous refresh (the second: a change at the same clock tick as the
-- row's build). Found from leads_updated and the kpi_funnel primary key:
-- the CASE keeps SQLite from reading a lead's row (erased_at) unless the
-- lead is stale. The refresh then reads the stale leads from their
-- earliest updated_at and lowest id on.

-- name: KPILeadsChanged
SELECT count(*), coalesce(max(l.updated_at), 0), coalesce(max(l.id), 0),
       coalesce(min(l.updated_at), 0), coalesce(min(l.id), 0)
FROM leads l LEFT JOIN kpi_funnel f ON f.lead_id = l.id
WHERE l.updated_at > ? AND CASE WHEN l.updated_at >= ? OR f.lead_id IS NULL OR f.lead_updated_at <> l.updated_at
    THEN f.lead_id IS NOT NULL OR l.erased_at IS NULL ELSE false END

-- The leads changed after a watermark with an id in (lo, hi]: the Few
-- variants, for a refresh in one chunk, walk leads_updated (the unary +
-- keeps SQLite from walking the id range, every lead, instead).

-- name: KPIFunnelDeleteErased
DELETE FROM kpi_funnel WHERE lead_id IN (
    SELECT l.id FROM leads l JOIN kpi_funnel f ON f.lead_id = l.id
    WHERE l.updated_at > ? AND l.id > ? AND l.id <= ?
        AND CASE WHEN l.updated_at >= ? OR f.lead_updated_at <> l.updated_at THEN l.erased_at IS NOT NULL ELSE false END)

-- name: KPIFunnelDeleteErasedFew
DELETE FROM kpi_funnel WHERE lead_id IN (
    SELECT l.id FROM leads l JOIN kpi_funnel f ON f.lead_id = l.id
    WHERE l.updated_at > ? AND +l.id > ? AND +l.id <= ?
        AND CASE WHEN l.updated_at >= ? OR f.lead_updated_at <> l.updated_at THEN l.erased_at IS NOT NULL ELSE false END)

-- Per stage S: the leads that first reached S (or a later funnel stage) in
-- [from, to), by bucket and group, and how many of them have reached each
-- stage by now (the cohort counts), were ever recycled, are in mql or a
-- later stage now, and how many reached it together with the stage before
-- (z: velocity 0; "lead_id < 0", never true, is replaced by that test for
-- the other stages). Written for 'lead' (the lead's creation); the store
-- makes the other stages' from it (created_at -> mql_at, …) and reads it
-- only for the pieces of a period shorter than an hour: the rest comes
-- from kpi_agg.

-- name: KPIStageCohort
SELECT 'lead', (created_at + ?) / ?, CASE ? WHEN 'source' THEN source WHEN 'medium' THEN medium WHEN 'campaign' THEN campaign WHEN 'industry' THEN industry WHEN 'owner' THEN owner WHEN 'team' THEN team ELSE '' END,
       count(*), count(mql_at), count(sal_at), count(sql_at), count(hql_at), count(opp_at), count(won_at),
       sum(CASE WHEN recycled > 0 THEN 1 ELSE 0 END), sum(qualified), sum(CASE WHEN lead_id < 0 THEN 1 ELSE 0 END)
FROM kpi_funnel WHERE created_at >= ? AND created_at < ? GROUP BY 2, 3

-- The pre-aggregates (migration 00014, store/kpi_agg.go). KPIAggSum sums
-- eight ranges of rows (lvl, dim, units [lo, hi)), each with a weight w
-- (1: added, -1: subtracted, 0 with an empty range: unused), per stage
-- and value: what one segment of a period between two bucket starts reads
-- (store.planSums).

-- name: KPIAggSum
SELECT stage, val, sum(w * n), sum(w * r1), sum(w * r2), sum(w * r3), sum(w * r4), sum(w * r5), sum(w * r6),
       sum(w * recycled), sum(w * qualified), sum(w * z)
FROM (
    SELECT CAST(? AS BIGINT) AS w, stage, val, n, r1, r2, r3, r4, r5, r6, recycled, qualified, z FROM kpi_agg
    WHERE lvl = ? AND dim = ? AND unit >= ? AND unit < ? AND n <> 0
    UNION ALL
    SELECT CAST(? AS BIGINT) AS w, stage, val, n, r1, r2, r3, r4, r5, r6, recycled, qualified, z FROM kpi_agg
    WHERE lvl = ? AND dim = ? AND unit >= ? AND unit < ? AND n <> 0
    UNION ALL
    SELECT CAST(? AS BIGINT) AS w, stage, val, n, r1, r2, r3, r4, r5, r6, recycled, qualified, z FROM kpi_agg
    WHERE lvl = ? AND dim = ? AND unit >= ? AND unit < ? AND n <> 0
    UNION ALL
    SELECT CAST(? AS BIGINT) AS w, stage, val, n, r1, r2, r3, r4, r5, r6, recycled, qualified, z FROM kpi_agg
    WHERE lvl = ? AND dim = ? AND unit >= ? AND unit < ? AND n <> 0
    UNION ALL
    SELECT CAST(? AS BIGINT) AS w, stage, val, n, r1, r2, r3, r4, r5, r6, recycled, qualified, z FROM kpi_agg
    WHERE lvl = ? AND dim = ? AND unit >= ? AND unit < ? AND n <> 0
    UNION ALL
    SELECT CAST(? AS BIGINT) AS w, stage, val, n, r1, r2, r3, r4, r5, r6, recycled, qualified, z FROM kpi_agg
    WHERE lvl = ? AND dim = ? AND unit >= ? AND unit < ? AND n <> 0
    UNION ALL
    SELECT CAST(? AS BIGINT) AS w, stage, val, n, r1, r2, r3, r4, r5, r6, recycled, qualified, z FROM kpi_agg
    WHERE lvl = ? AND dim = ? AND unit >= ? AND unit < ? AND n <> 0
    UNION ALL
    SELECT CAST(? AS BIGINT) AS w, stage, val, n, r1, r2, r3, r4, r5, r6, recycled, qualified, z FROM kpi_agg
    WHERE lvl = ? AND dim = ? AND unit >= ? AND unit < ? AND n <> 0
) x
WHERE stage >= ? AND stage <= ?
GROUP BY stage, val

-- name: KPIAggScoreRange
SELECT val, bin, sum(n) FROM kpi_agg_scores WHERE lvl = ? AND dim = ? AND unit >= ? AND unit < ? AND n <> 0 GROUP BY val, bin

-- name: KPIAggAll
SELECT lvl, dim, unit, stage, val, n, r1, r2, r3, r4, r5, r6, recycled, qualified, z FROM kpi_agg WHERE n <> 0

-- name: KPIAggScoresAll
SELECT lvl, dim, unit, val, bin, n FROM kpi_agg_scores WHERE n <> 0

-- name: KPIAggClear
DELETE FROM kpi_agg

-- name: KPIAggScoresClear
DELETE FROM kpi_agg_scores

-- The kpi_funnel rows a refresh is about to rewrite (see KPILeadsChanged).

-- name: KPIFunnelRowsChanged
SELECT f.lead_id, f.created_at, f.source, f.medium, f.campaign, f.industry, f.owner, f.team, f.score,
       f.mql_at, f.sal_at, f.sql_at, f.hql_at, f.opp_at, f.won_at, f.recycled, f.qualified
FROM leads l JOIN kpi_funnel f ON f.lead_id = l.id
WHERE l.updated_at > ? AND l.id > ? AND l.id <= ? AND (l.updated_at >= ? OR f.lead_updated_at <> l.updated_at)

-- name: KPIFunnelRowsChangedFew
SELECT f.lead_id, f.created_at, f.source, f.medium, f.campaign, f.industry, f.owner, f.team, f.score,
       f.mql_at, f.sal_at, f.sql_at, f.hql_at, f.opp_at, f.won_at, f.recycled, f.qualified
FROM leads l JOIN kpi_funnel f ON f.lead_id = l.id
WHERE l.updated_at > ? AND +l.id > ? AND +l.id <= ? AND (l.updated_at >= ? OR f.lead_updated_at <> l.updated_at)

-- name: KPIFunnelRowsAll
SELECT lead_id, created_at, source, medium, campaign, industry, owner, team, score,
       mql_at, sal_at, sql_at, hql_at, opp_at, won_at, recycled, qualified
FROM kpi_funnel

-- name: KPIFunnelGone
SELECT lead_id, created_at, source, medium, campaign, industry, owner, team, score,
       mql_at, sal_at, sql_at, hql_at, opp_at, won_at, recycled, qualified
FROM kpi_funnel_gone

-- name: KPIFunnelGoneAny
SELECT count(*) FROM (SELECT 1 FROM kpi_funnel_gone LIMIT 1) x

-- name: KPIFunnelGoneDelete
DELETE FROM kpi_funnel_gone WHERE lead_id = ?

-- name: KPIFunnelGoneClear
DELETE FROM kpi_funnel_gone

-- Velocity: per stage T, the leads that first reached T in the period and
-- how long after reaching the stage before T they did (microseconds).
-- Written for T = mql (the stage before: the lead's creation); the store
-- makes the other stages' from it (mql_at -> T's column, created_at -> the
-- column of the stage before), each read from T's covering index.

-- name: KPIVelocityStage
SELECT (mql_at + ?) / ?, CASE ? WHEN 'source' THEN source WHEN 'medium' THEN medium WHEN 'campaign' THEN campaign WHEN 'industry' THEN industry WHEN 'owner' THEN owner WHEN 'team' THEN team ELSE '' END, mql_at - created_at
FROM kpi_funnel WHERE mql_at >= ? AND mql_at < ?

-- name: KPIVelocityStageAll
SELECT (mql_at + ?) / ?, mql_at - created_at FROM kpi_funnel WHERE mql_at >= ? AND mql_at < ?

-- The same without the leads that reached T together with the stage
-- before (velocity 0; counted by kpi_agg's z instead).

-- name: KPIVelocityStagePos
SELECT (mql_at + ?) / ?, CASE ? WHEN 'source' THEN source WHEN 'medium' THEN medium WHEN 'campaign' THEN campaign WHEN 'industry' THEN industry WHEN 'owner' THEN owner WHEN 'team' THEN team ELSE '' END, mql_at - created_at
FROM kpi_funnel WHERE mql_at >= ? AND mql_at < ? AND created_at < mql_at

-- name: KPIVelocityStageAllPos
SELECT (mql_at + ?) / ?, mql_at - created_at FROM kpi_funnel WHERE mql_at >= ? AND mql_at < ? AND created_at < mql_at

-- First touch: the MQLs of the period and the time from reaching MQL to
-- the first sales touch at or after it (NULL: not touched yet), with the
-- time from creation to MQL (velocity lead→mql) from the same read.

-- name: KPIMQLDurations
SELECT (f.mql_at + ?) / ?, CASE ? WHEN 'source' THEN f.source WHEN 'medium' THEN f.medium WHEN 'campaign' THEN f.campaign WHEN 'industry' THEN f.industry WHEN 'owner' THEN f.owner WHEN 'team' THEN f.team ELSE '' END,
       f.mql_at - f.created_at, (SELECT min(t.at) FROM touches t WHERE t.lead_id = f.lead_id AND t.at >= f.mql_at) - f.mql_at
FROM kpi_funnel f WHERE f.mql_at >= ? AND f.mql_at < ?

-- name: KPIMQLDurationsAll
SELECT (f.mql_at + ?) / ?, f.mql_at - f.created_at,
       (SELECT min(t.at) FROM touches t WHERE t.lead_id = f.lead_id AND t.at >= f.mql_at) - f.mql_at
FROM kpi_funnel f WHERE f.mql_at >= ? AND f.mql_at < ?

-- SLA clocks started in the period by outcome; a running clock already
-- past its deadline counts as breached. The owner breakdown is the clock's
-- owner (the rep responsible then); the others are the lead's. Without a
-- breakdown, or by owner, KPISLAClocks reads the covering index
-- sla_clocks_started (migration 00016) alone: the LEFT JOIN of KPISLA
-- adds nothing there.

-- name: KPISLAClocks
SELECT (started_at + ?) / ?, CASE ? WHEN 'owner' THEN owner ELSE '' END,
       policy, CASE WHEN status = 'running' AND due_at < ? THEN 'breached' ELSE status END, count(*)
FROM sla_clocks WHERE started_at >= ? AND started_at < ?
GROUP BY 1, 2, 3, 4

-- name: KPISLA
SELECT (c.started_at + ?) / ?, CASE ? WHEN 'owner' THEN c.owner WHEN 'source' THEN coalesce(f.source, '') WHEN 'medium' THEN coalesce(f.medium, '') WHEN 'campaign' THEN coalesce(f.campaign, '') WHEN 'industry' THEN coalesce(f.industry, '') WHEN 'team' THEN coalesce(f.team, '') ELSE '' END,
       c.policy, CASE WHEN c.status = 'running' AND c.due_at < ? THEN 'breached' ELSE c.status END, count(*)
FROM sla_clocks c LEFT JOIN kpi_funnel f ON f.lead_id = c.lead_id
WHERE c.started_at >= ? AND c.started_at < ?
GROUP BY 1, 2, 3, 4

-- Recycles and disqualifications in the period (kpi_recycles: those of
-- the leads in kpi_funnel); manual is 1 when a person or API client did it
-- (a rejection), 0 for rules, expiry and lost deals.

-- name: KPIRecycles
SELECT (at + ?) / ?, CASE ? WHEN 'source' THEN source WHEN 'medium' THEN medium WHEN 'campaign' THEN campaign WHEN 'industry' THEN industry WHEN 'owner' THEN owner WHEN 'team' THEN team ELSE '' END,
       to_stage, from_stage, manual, reason, count(*)
FROM kpi_recycles
WHERE at >= ? AND at < ?
GROUP BY 1, 2, 3, 4, 5, 6

-- The same from transitions and kpi_funnel (RecycleMismatches compares).

-- name: KPIRecyclesLive
SELECT t.lead_id, t.at, t.to_stage, t.from_stage, CASE WHEN t.cause LIKE 'user:%' OR t.cause LIKE 'api:%' THEN 1 ELSE 0 END,
       t.reason, f.source, f.medium, f.campaign, f.industry, f.owner, f.team
FROM transitions t JOIN kpi_funnel f ON f.lead_id = t.lead_id
WHERE t.to_stage IN ('recycled', 'disqualified')

-- name: KPIRecyclesAll
SELECT lead_id, at, to_stage, from_stage, manual, reason, source, medium, campaign, industry, owner, team
FROM kpi_recycles

-- Current scores of the leads created in the period, in bins of 10 points.

-- name: KPIScores
SELECT CASE ? WHEN 'source' THEN source WHEN 'medium' THEN medium WHEN 'campaign' THEN campaign WHEN 'industry' THEN industry WHEN 'owner' THEN owner WHEN 'team' THEN team ELSE '' END,
       floor(score / 10), count(*)
FROM kpi_funnel WHERE created_at >= ? AND created_at < ? GROUP BY 1, 2

-- Won deals closed in the period.

-- name: KPIWon
SELECT (d.at + ?) / ?, CASE ? WHEN 'source' THEN f.source WHEN 'medium' THEN f.medium WHEN 'campaign' THEN f.campaign WHEN 'industry' THEN f.industry WHEN 'owner' THEN f.owner WHEN 'team' THEN f.team ELSE '' END,
       d.currency, count(*), sum(d.amount)
FROM deals d JOIN kpi_funnel f ON f.lead_id = d.lead_id
WHERE d.status = 'won' AND d.at >= ? AND d.at < ?
GROUP BY 1, 2, 3

-- Campaign costs and monthly targets.

-- name: CampaignCostUpsert
INSERT INTO campaign_costs (campaign, month, amount, currency, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (campaign, month) DO UPDATE SET amount = excluded.amount, currency = excluded.currency,
    updated_by = excluded.updated_by, updated_at = excluded.updated_at

-- name: CampaignCosts
SELECT campaign, month, amount, currency, updated_by, updated_at FROM campaign_costs
WHERE month >= ? AND month <= ? ORDER BY campaign, month

-- name: TargetUpsert
INSERT INTO targets (month, metric, value, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (month, metric) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by,
    updated_at = excluded.updated_at

-- name: TargetDelete
DELETE FROM targets WHERE month = ? AND metric = ?

-- name: TargetDeleteMonth
DELETE FROM targets WHERE month = ? AND (? = '' OR metric = ?)

-- name: Targets
SELECT month, metric, value, updated_by, updated_at FROM targets WHERE month >= ? AND month <= ? ORDER BY month, metric

-- Backtest: the outcomes of a range of leads from their transitions (when
-- each first reached SQL or later, opportunity or later, customer) and
-- won deals.

-- name: BacktestOutcomes
SELECT lead_id,
       min(CASE WHEN to_stage IN ('sql', 'hql', 'opportunity', 'customer') THEN at END),
       min(CASE WHEN to_stage IN ('opportunity', 'customer') THEN at END),
       min(CASE WHEN to_stage = 'customer' THEN at END)
FROM transitions WHERE lead_id > ? AND lead_id <= ?
GROUP BY lead_id ORDER BY lead_id

-- name: BacktestWonDeals
SELECT lead_id, min(at) FROM deals WHERE status = 'won' AND lead_id > ? AND lead_id <= ?
GROUP BY lead_id ORDER BY lead_id

-- Generated outcome histories (internal/gen), written in bulk: stage
-- changes and CRM deals of leads loaded with store.Loader.

-- name: HistoryTransitionInsert
INSERT INTO transitions (lead_id, from_stage, to_stage, at, cause, reason, score, explanation)
VALUES (?, ?, ?, ?, ?, ?, 0, '{}')

-- name: HistoryDealInsert
INSERT INTO deals (lead_id, external_id, name, status, amount, currency, reason, at, updated_at)
VALUES (?, ?, ?, ?, ?, 'JPY', ?, ?, ?)

-- The weekly review digest: subscriptions and the durable record of sends.

-- name: ReviewSubscribe
INSERT INTO review_subscriptions (user_id, lang, created_at) VALUES (?, ?, ?)
ON CONFLICT (user_id) DO UPDATE SET lang = excluded.lang

-- name: ReviewUnsubscribe
DELETE FROM review_subscriptions WHERE user_id = ?

-- name: ReviewSubscriptionOf
SELECT lang FROM review_subscriptions WHERE user_id = ?

-- name: ReviewSubscribers
SELECT u.id, u.name, u.display_name, u.email, s.lang FROM review_subscriptions s JOIN users u ON u.id = s.user_id
WHERE u.active AND u.email <> '' ORDER BY u.id

-- name: ReviewDigestClaim
INSERT INTO review_digests (period, user_id, sent_at) VALUES (?, ?, ?) ON CONFLICT (period, user_id) DO NOTHING

-- name: ReviewDigestRelease
DELETE FROM review_digests WHERE period = ? AND user_id = ?

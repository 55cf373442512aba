-- +goose Up
-- KPI pre-aggregates (docs/kpis.md "Speed"): the counts of kpi_funnel per
-- stage, UTC hour or day and breakdown value, kept up to date by
-- store.RefreshFunnel from the old and new kpi_funnel rows of the leads it
-- refreshes (subtract the old, add the new), and built from kpi_funnel by
-- the first refresh after this migration (kpi_state 'agg.built').

-- Whether the lead's current stage is mql or beyond (the dashboard's
-- "qualified now" of top sources).
ALTER TABLE kpi_funnel ADD COLUMN qualified BIGINT NOT NULL DEFAULT 0;
UPDATE kpi_funnel SET qualified = 1 WHERE lead_id IN (
    SELECT id FROM leads WHERE stage IN ('mql', 'sal', 'sql', 'hql', 'opportunity', 'customer'));

-- The leads.updated_at each row was built from: the refresh skips the
-- leads of its updated_at window whose updated_at still equals it (after a
-- bulk change, a read within the margin looks at nothing again). 0 for the
-- rows built before: they may be stale, so they never match.
ALTER TABLE kpi_funnel ADD COLUMN lead_updated_at BIGINT NOT NULL DEFAULT 0;

-- lvl 1: unit = UTC hour (t / 3600 s), lvl 2: UTC day; stage indexes
-- store.FunnelStages (0 lead created … 6 customer); dim 0 is every lead
-- (val ''), 1…6 source, medium, campaign, industry, owner, team. n counts
-- the leads that reached the stage in the unit, r1…r6 how many of them
-- reached mql … customer by now, recycled those recycled at least once,
-- qualified those whose current stage is mql or beyond.
CREATE TABLE kpi_agg (
    lvl       BIGINT NOT NULL,
    dim       BIGINT NOT NULL,
    unit      BIGINT NOT NULL,
    stage     BIGINT NOT NULL,
    val       TEXT    NOT NULL,
    n         BIGINT NOT NULL,
    r1        BIGINT NOT NULL,
    r2        BIGINT NOT NULL,
    r3        BIGINT NOT NULL,
    r4        BIGINT NOT NULL,
    r5        BIGINT NOT NULL,
    r6        BIGINT NOT NULL,
    recycled  BIGINT NOT NULL,
    qualified BIGINT NOT NULL,
    PRIMARY KEY (lvl, dim, unit, stage, val)
);

-- Leads created per UTC day and breakdown value by current score bin
-- (floor(score / 10)).
CREATE TABLE kpi_agg_scores (
    dim  BIGINT NOT NULL,
    unit BIGINT NOT NULL,
    val  TEXT    NOT NULL,
    bin  BIGINT NOT NULL,
    n    BIGINT NOT NULL,
    PRIMARY KEY (dim, unit, val, bin)
);

-- kpi_funnel rows deleted outside the refresh (a merged lead's row goes
-- with it): the refresh subtracts them from the aggregates, then forgets
-- them.
CREATE TABLE kpi_funnel_gone (
    lead_id    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    source     TEXT    NOT NULL,
    medium     TEXT    NOT NULL,
    campaign   TEXT    NOT NULL,
    industry   TEXT    NOT NULL,
    owner      TEXT    NOT NULL,
    team       TEXT    NOT NULL,
    score      DOUBLE PRECISION    NOT NULL,
    mql_at     BIGINT,
    sal_at     BIGINT,
    sql_at     BIGINT,
    hql_at     BIGINT,
    opp_at     BIGINT,
    won_at     BIGINT,
    recycled   BIGINT NOT NULL,
    qualified  BIGINT NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION kpi_funnel_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi_funnel_gone VALUES (OLD.lead_id, OLD.created_at, OLD.source, OLD.medium, OLD.campaign,
        OLD.industry, OLD.owner, OLD.team, OLD.score, OLD.mql_at, OLD.sal_at, OLD.sql_at, OLD.hql_at,
        OLD.opp_at, OLD.won_at, OLD.recycled, OLD.qualified);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER kpi_funnel_gone AFTER DELETE ON kpi_funnel FOR EACH ROW EXECUTE FUNCTION kpi_funnel_gone();

-- Velocity and first touch read these covering indexes in time order
-- (the stage time, the one before it, the breakdown columns) instead of
-- one table row per lead.
DROP INDEX kpi_funnel_mql;
DROP INDEX kpi_funnel_sal;
DROP INDEX kpi_funnel_sql;
DROP INDEX kpi_funnel_hql;
DROP INDEX kpi_funnel_opp;
DROP INDEX kpi_funnel_won;
CREATE INDEX kpi_funnel_mql ON kpi_funnel (mql_at, created_at, source, medium, campaign, industry, owner, team, lead_id) WHERE mql_at IS NOT NULL;
CREATE INDEX kpi_funnel_sal ON kpi_funnel (sal_at, mql_at, source, medium, campaign, industry, owner, team) WHERE sal_at IS NOT NULL;
CREATE INDEX kpi_funnel_sql ON kpi_funnel (sql_at, sal_at, source, medium, campaign, industry, owner, team) WHERE sql_at IS NOT NULL;
CREATE INDEX kpi_funnel_hql ON kpi_funnel (hql_at, sql_at, source, medium, campaign, industry, owner, team) WHERE hql_at IS NOT NULL;
CREATE INDEX kpi_funnel_opp ON kpi_funnel (opp_at, hql_at, source, medium, campaign, industry, owner, team) WHERE opp_at IS NOT NULL;
CREATE INDEX kpi_funnel_won ON kpi_funnel (won_at, opp_at, source, medium, campaign, industry, owner, team) WHERE won_at IS NOT NULL;

-- Recycles and disqualifications of a period, read in time order.
CREATE INDEX transitions_recycles ON transitions (to_stage, at, from_stage, cause, reason, lead_id)
    WHERE to_stage IN ('recycled', 'disqualified');

-- The dashboard's SLA now (at risk, breached and not met, running):
-- three counts of this index.
CREATE INDEX sla_clocks_open ON sla_clocks (status, stopped_at, warn_at);

-- +goose Down
DROP INDEX sla_clocks_open;
DROP INDEX transitions_recycles;
DROP INDEX kpi_funnel_mql;
DROP INDEX kpi_funnel_sal;
DROP INDEX kpi_funnel_sql;
DROP INDEX kpi_funnel_hql;
DROP INDEX kpi_funnel_opp;
DROP INDEX kpi_funnel_won;
CREATE INDEX kpi_funnel_mql ON kpi_funnel (mql_at) WHERE mql_at IS NOT NULL;
CREATE INDEX kpi_funnel_sal ON kpi_funnel (sal_at) WHERE sal_at IS NOT NULL;
CREATE INDEX kpi_funnel_sql ON kpi_funnel (sql_at) WHERE sql_at IS NOT NULL;
CREATE INDEX kpi_funnel_hql ON kpi_funnel (hql_at) WHERE hql_at IS NOT NULL;
CREATE INDEX kpi_funnel_opp ON kpi_funnel (opp_at) WHERE opp_at IS NOT NULL;
CREATE INDEX kpi_funnel_won ON kpi_funnel (won_at) WHERE won_at IS NOT NULL;
DROP TRIGGER kpi_funnel_gone ON kpi_funnel;
DROP FUNCTION kpi_funnel_gone();
DROP TABLE kpi_funnel_gone;
DROP TABLE kpi_agg_scores;
DROP TABLE kpi_agg;
ALTER TABLE kpi_funnel DROP COLUMN lead_updated_at;
ALTER TABLE kpi_funnel DROP COLUMN qualified;
DELETE FROM kpi_state WHERE key = 'agg.built';

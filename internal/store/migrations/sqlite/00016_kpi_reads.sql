-- +goose Up
-- Faster KPI reports (docs/kpis.md "Speed").

-- z: of the leads that reached the stage in the unit, how many reached it
-- together with the stage before (velocity 0; most leads reach SAL, SQL
-- and opportunity together with the stage before). Velocity reads only
-- the others from kpi_funnel. The next refresh rebuilds the aggregates.
ALTER TABLE kpi_agg ADD COLUMN z INTEGER NOT NULL DEFAULT 0;
DELETE FROM kpi_state WHERE key = 'agg.built';

-- kpi_agg gets two more levels (rebuilt by the next refresh): lvl 3,
-- blocks of 4 UTC days (unit = day / 4), and lvl 4, blocks of 3 UTC hours
-- (unit = hour / 3). The score bins too get the 4-day blocks: lvl 2 (day)
-- or 3 (4-day block).
DROP TABLE kpi_agg_scores;
CREATE TABLE kpi_agg_scores (
    lvl  INTEGER NOT NULL,
    dim  INTEGER NOT NULL,
    unit INTEGER NOT NULL,
    val  TEXT    NOT NULL,
    bin  INTEGER NOT NULL,
    n    INTEGER NOT NULL,
    PRIMARY KEY (lvl, dim, unit, val, bin)
) WITHOUT ROWID;

-- The recycles and disqualifications of the leads in kpi_funnel, with the
-- lead's breakdown values: store.RefreshFunnel rewrites a lead's rows
-- with its kpi_funnel row (from the same transitions), and they go with
-- it. KPIRecycles reads them in time order from kpi_recycles_at alone
-- instead of looking up each transition's kpi_funnel row. manual is 1 for
-- a person's or API client's (cause user:… or api:…).
CREATE TABLE kpi_recycles (
    lead_id    INTEGER NOT NULL REFERENCES kpi_funnel (lead_id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    to_stage   TEXT    NOT NULL,
    from_stage TEXT    NOT NULL,
    manual     INTEGER NOT NULL,
    reason     TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    medium     TEXT    NOT NULL,
    campaign   TEXT    NOT NULL,
    industry   TEXT    NOT NULL,
    owner      TEXT    NOT NULL,
    team       TEXT    NOT NULL
);
CREATE INDEX kpi_recycles_at ON kpi_recycles (at, to_stage, from_stage, manual, reason, source, medium, campaign, industry, owner, team);
CREATE INDEX kpi_recycles_lead ON kpi_recycles (lead_id);
-- The refresh finds a lead's recycles here (a small index) rather than in
-- transitions_lead, which holds every transition.
CREATE INDEX transitions_recycles_lead ON transitions (lead_id) WHERE to_stage IN ('recycled', 'disqualified');
INSERT INTO kpi_recycles (lead_id, at, to_stage, from_stage, manual, reason, source, medium, campaign, industry, owner, team)
SELECT t.lead_id, t.at, t.to_stage, t.from_stage, CASE WHEN t.cause LIKE 'user:%' OR t.cause LIKE 'api:%' THEN 1 ELSE 0 END,
       t.reason, f.source, f.medium, f.campaign, f.industry, f.owner, f.team
FROM transitions t JOIN kpi_funnel f ON f.lead_id = t.lead_id
WHERE t.to_stage IN ('recycled', 'disqualified');

-- SLA clocks by start: KPISLAClocks reads this index alone (KPISLA adds
-- the lead's breakdown from kpi_funnel) instead of every clock's row.
CREATE INDEX sla_clocks_started ON sla_clocks (started_at, policy, status, due_at, owner, lead_id);

-- +goose Down
DROP INDEX sla_clocks_started;
DROP INDEX transitions_recycles_lead;
DROP TABLE kpi_recycles;
DROP TABLE kpi_agg_scores;
CREATE TABLE kpi_agg_scores (
    dim  INTEGER NOT NULL,
    unit INTEGER NOT NULL,
    val  TEXT    NOT NULL,
    bin  INTEGER NOT NULL,
    n    INTEGER NOT NULL,
    PRIMARY KEY (dim, unit, val, bin)
) WITHOUT ROWID;
DELETE FROM kpi_agg WHERE lvl > 2;
ALTER TABLE kpi_agg DROP COLUMN z;
DELETE FROM kpi_state WHERE key = 'agg.built';

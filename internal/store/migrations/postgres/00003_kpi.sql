-- +goose Up
-- KPIs: campaign costs, monthly targets, and the per-lead funnel summary the
-- KPI queries read (one row per lead: when it first reached each stage).

-- What a campaign cost in one calendar month (YYYY-MM), entered by
-- marketing by API or CSV. Campaign names match leads.campaign (the lead's
-- first-touch utm_campaign).
CREATE TABLE campaign_costs (
    campaign   TEXT    NOT NULL,
    month      TEXT    NOT NULL,               -- YYYY-MM
    amount     DOUBLE PRECISION NOT NULL,
    currency   TEXT    NOT NULL DEFAULT 'JPY',
    updated_by TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (campaign, month)
);

-- Monthly targets: how many leads, MQLs, SQLs, opportunities marketing and
-- sales commit to, and the won amount.
CREATE TABLE targets (
    month      TEXT    NOT NULL,               -- YYYY-MM
    metric     TEXT    NOT NULL,               -- leads, mqls, sqls, opportunities, customers, won_amount
    value      DOUBLE PRECISION NOT NULL,
    updated_by TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (month, metric)
);

-- Derived from leads and transitions by store.RefreshFunnel; never edited
-- by hand and safe to drop (the next refresh rebuilds it). *_at is when the
-- lead first reached the stage or any later funnel stage (NULL: never).
CREATE TABLE kpi_funnel (
    lead_id    BIGINT PRIMARY KEY REFERENCES leads (id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL,
    source     TEXT    NOT NULL DEFAULT '',
    medium     TEXT    NOT NULL DEFAULT '',
    campaign   TEXT    NOT NULL DEFAULT '',
    industry   TEXT    NOT NULL DEFAULT '',
    owner      TEXT    NOT NULL DEFAULT '',
    team       TEXT    NOT NULL DEFAULT '',
    score      DOUBLE PRECISION NOT NULL DEFAULT 0,
    mql_at     BIGINT,
    sal_at     BIGINT,
    sql_at     BIGINT,
    hql_at     BIGINT,
    opp_at     BIGINT,
    won_at     BIGINT,
    recycled   BIGINT  NOT NULL DEFAULT 0      -- times recycled
);
CREATE INDEX kpi_funnel_created ON kpi_funnel (created_at);
CREATE INDEX kpi_funnel_mql ON kpi_funnel (mql_at) WHERE mql_at IS NOT NULL;
CREATE INDEX kpi_funnel_sal ON kpi_funnel (sal_at) WHERE sal_at IS NOT NULL;
CREATE INDEX kpi_funnel_sql ON kpi_funnel (sql_at) WHERE sql_at IS NOT NULL;
CREATE INDEX kpi_funnel_hql ON kpi_funnel (hql_at) WHERE hql_at IS NOT NULL;
CREATE INDEX kpi_funnel_opp ON kpi_funnel (opp_at) WHERE opp_at IS NOT NULL;
CREATE INDEX kpi_funnel_won ON kpi_funnel (won_at) WHERE won_at IS NOT NULL;

-- Refresh watermarks of kpi_funnel.
CREATE TABLE kpi_state (
    key   TEXT    PRIMARY KEY,
    value BIGINT  NOT NULL
);

CREATE INDEX deals_status_at ON deals (status, at);

-- +goose Down
DROP INDEX deals_status_at;
DROP TABLE kpi_state;
DROP TABLE kpi_funnel;
DROP TABLE targets;
DROP TABLE campaign_costs;

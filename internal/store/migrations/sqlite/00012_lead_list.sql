-- +goose Up
-- The lead list filtered by one stage (MQL, recycled, …) and sorted by the
-- last update (the default) walks this index instead of sorting every lead
-- of that stage (96,000 MQLs in the 1M-lead benchmark set: 0.5–1.4 s → ms).
CREATE INDEX leads_stage_updated ON leads (stage, updated_at, id);

-- +goose Down
DROP INDEX leads_stage_updated;

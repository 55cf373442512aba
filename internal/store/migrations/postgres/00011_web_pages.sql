-- +goose Up
-- The lead list sorts by creation date, and the dashboard reads the leads
-- created in a period: both walk this index instead of the whole table.
CREATE INDEX leads_created ON leads (created_at, id);

-- +goose Down
DROP INDEX leads_created;

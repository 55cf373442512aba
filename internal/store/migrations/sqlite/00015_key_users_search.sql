-- +goose Up
-- An API key may belong to a user: it then acts as that user (actions are
-- recorded as "user:NAME") and, for a sales key, sees and acts on that
-- user's and that user's team's leads only, as the user does in the UI.
-- '' is a key of no one (integrations); a sales key needs a user.
ALTER TABLE api_keys ADD COLUMN user_name TEXT NOT NULL DEFAULT '';

-- Filter choices of the lead list (distinct sources, campaigns, industries)
-- are read by a loose index scan over these indexes: one index probe per
-- distinct value instead of a scan of every lead.
CREATE INDEX leads_source ON leads (source) WHERE erased_at IS NULL;
CREATE INDEX leads_campaign ON leads (campaign) WHERE erased_at IS NULL;
CREATE INDEX leads_industry ON leads (industry) WHERE erased_at IS NULL;

-- Substring search on name, email and company (the lead list's q): an
-- FTS5 trigram index of those columns, kept by triggers. External content:
-- the text stays in leads only. Erasing a lead switches FTS5's
-- secure-delete on for its own delete (store.EraseLead), so that its
-- trigrams are removed from the index at once instead of being left behind
-- a delete marker; it stays off otherwise (it makes every update of a name
-- or company some twenty times dearer).
CREATE VIRTUAL TABLE leads_search USING fts5(name, email, company, content='leads', content_rowid='id', tokenize='trigram');
INSERT INTO leads_search (leads_search) VALUES ('rebuild');

-- +goose StatementBegin
CREATE TRIGGER leads_search_insert AFTER INSERT ON leads
BEGIN
    INSERT INTO leads_search (rowid, name, email, company) VALUES (NEW.id, NEW.name, NEW.email, NEW.company);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER leads_search_update AFTER UPDATE OF name, email, company ON leads
WHEN OLD.name IS NOT NEW.name OR OLD.email IS NOT NEW.email OR OLD.company IS NOT NEW.company
BEGIN
    INSERT INTO leads_search (leads_search, rowid, name, email, company) VALUES ('delete', OLD.id, OLD.name, OLD.email, OLD.company);
    INSERT INTO leads_search (rowid, name, email, company) VALUES (NEW.id, NEW.name, NEW.email, NEW.company);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER leads_search_delete AFTER DELETE ON leads
BEGIN
    INSERT INTO leads_search (leads_search, rowid, name, email, company) VALUES ('delete', OLD.id, OLD.name, OLD.email, OLD.company);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER leads_search_delete;
DROP TRIGGER leads_search_update;
DROP TRIGGER leads_search_insert;
DROP TABLE leads_search;
DROP INDEX leads_industry;
DROP INDEX leads_campaign;
DROP INDEX leads_source;
ALTER TABLE api_keys DROP COLUMN user_name;

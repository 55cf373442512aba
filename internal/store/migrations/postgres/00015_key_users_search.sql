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

-- Substring search on name, email and company (the lead list's q):
-- trigram GIN indexes (pg_trgm) on the lowercased columns the search
-- compares. New entries wait in a pending list that every search reads
-- through until it is merged (by autovacuum, or when full): a small list
-- (256 kB instead of 4 MB) keeps a search on a freshly loaded table in
-- milliseconds instead of a hundred or more. The extension is created once
-- per database, in schema public
-- (leadflow may live in another schema, e.g. one per test); its operator
-- class is named with the schema it is in. Without the right to create the
-- extension, the search keeps working without these indexes (a scan).
-- +goose StatementBegin
DO $$
DECLARE
    s TEXT;
BEGIN
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
            IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public') THEN
                CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
            ELSE
                CREATE EXTENSION IF NOT EXISTS pg_trgm;
            END IF;
        END IF;
    EXCEPTION
        WHEN unique_violation OR duplicate_object THEN NULL; -- created meanwhile by another migration
        WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
            RAISE NOTICE 'pg_trgm unavailable (%): lead search runs without trigram indexes', SQLERRM;
            RETURN;
    END;
    SELECT n.nspname INTO s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF s IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE INDEX leads_name_trgm ON leads USING gin (lower(name) %I.gin_trgm_ops) WITH (gin_pending_list_limit = 256)', s);
    EXECUTE format('CREATE INDEX leads_email_trgm ON leads USING gin (email %I.gin_trgm_ops) WITH (gin_pending_list_limit = 256)', s);
    EXECUTE format('CREATE INDEX leads_company_trgm ON leads USING gin (lower(company) %I.gin_trgm_ops) WITH (gin_pending_list_limit = 256)', s);
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS leads_company_trgm;
DROP INDEX IF EXISTS leads_email_trgm;
DROP INDEX IF EXISTS leads_name_trgm;
DROP INDEX leads_industry;
DROP INDEX leads_campaign;
DROP INDEX leads_source;
ALTER TABLE api_keys DROP COLUMN user_name;

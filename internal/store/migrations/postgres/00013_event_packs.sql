-- +goose Up
-- Packed form of the compact scoring copy (00006): one row per lead holding
-- many of its events (time, id, signature) delta- and varint-encoded, so a
-- full rescore or backtest reads about one row per lead instead of one per
-- event. event_scores stays the unpacked tail: new events land there by
-- the 00006 trigger, and a packing step (store.PackEvents: at the start
-- of a full rescore or backtest, by a periodic job, and right after this
-- migration) moves a lead's tail rows into its pack in one transaction.
-- A reader merges pack and tail per lead in (time, id) order.
--
-- A change, move (merge) or delete of an event of a lead that has a pack
-- unpacks that lead: its other events are copied back into event_scores
-- from the events table and the pack is dropped; the rest of the trigger
-- then handles the event itself. An AFTER trigger of a multi-row UPDATE
-- sees the statement's final rows, so the copy may already hold an
-- event's new row: the insert below updates it. Packing takes the
-- exclusive advisory lock 'leadpack' per batch, the trigger the shared
-- one before it looks at packs, so a pack never misses a concurrent unpack.
CREATE TABLE event_packs (
    lead_id BIGINT PRIMARY KEY,
    n       INTEGER NOT NULL,
    data    BYTEA NOT NULL
);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION event_scores_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s BIGINT;
    p TEXT;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.lead_id IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock_shared(7810756212754047851);
        DELETE FROM event_packs WHERE lead_id = OLD.lead_id;
        IF FOUND THEN
            INSERT INTO event_scores (lead_id, ts, event_id, sig)
                SELECT e.lead_id, e.ts, e.id, g.id
                FROM events e
                JOIN event_sigs g ON g.type = e.type AND g.name = e.name AND g.path = event_path(e.properties)
                WHERE e.lead_id = OLD.lead_id AND e.id <> OLD.id
                ON CONFLICT (lead_id, ts, event_id) DO UPDATE SET sig = EXCLUDED.sig;
        END IF;
        DELETE FROM event_scores WHERE lead_id = OLD.lead_id AND ts = OLD.ts AND event_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.lead_id IS NOT NULL THEN
        p := event_path(NEW.properties);
        SELECT id INTO s FROM event_sigs WHERE type = NEW.type AND name = NEW.name AND path = p;
        IF s IS NULL THEN
            INSERT INTO event_sigs (type, name, path) VALUES (NEW.type, NEW.name, p)
                ON CONFLICT DO NOTHING RETURNING id INTO s;
            IF s IS NULL THEN
                SELECT id INTO s FROM event_sigs WHERE type = NEW.type AND name = NEW.name AND path = p;
            END IF;
        END IF;
        INSERT INTO event_scores (lead_id, ts, event_id, sig) VALUES (NEW.lead_id, NEW.ts, NEW.id, s)
            ON CONFLICT (lead_id, ts, event_id) DO UPDATE SET sig = EXCLUDED.sig;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- Unpack everything before the packs go.
INSERT INTO event_scores (lead_id, ts, event_id, sig)
SELECT e.lead_id, e.ts, e.id, g.id
FROM events e
JOIN event_sigs g ON g.type = e.type AND g.name = e.name AND g.path = event_path(e.properties)
WHERE e.lead_id IN (SELECT lead_id FROM event_packs)
ON CONFLICT DO NOTHING;
DROP TABLE event_packs;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION event_scores_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s BIGINT;
    p TEXT;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.lead_id IS NOT NULL THEN
        DELETE FROM event_scores WHERE lead_id = OLD.lead_id AND ts = OLD.ts AND event_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.lead_id IS NOT NULL THEN
        p := event_path(NEW.properties);
        SELECT id INTO s FROM event_sigs WHERE type = NEW.type AND name = NEW.name AND path = p;
        IF s IS NULL THEN
            INSERT INTO event_sigs (type, name, path) VALUES (NEW.type, NEW.name, p)
                ON CONFLICT DO NOTHING RETURNING id INTO s;
            IF s IS NULL THEN
                SELECT id INTO s FROM event_sigs WHERE type = NEW.type AND name = NEW.name AND path = p;
            END IF;
        END IF;
        INSERT INTO event_scores (lead_id, ts, event_id, sig) VALUES (NEW.lead_id, NEW.ts, NEW.id, s);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

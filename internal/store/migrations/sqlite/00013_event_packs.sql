-- +goose Up
-- Packed form of the compact scoring copy (00006): one row per lead holding
-- many of its events (time, id, signature) delta- and varint-encoded, so a
-- full rescore or backtest reads about one row per lead instead of one per
-- event. event_scores stays the unpacked tail: new events land there by
-- the 00006 triggers, and a packing step (store.PackEvents: at the start
-- of a full rescore or backtest, by a periodic job, and right after this
-- migration) moves a lead's tail rows into its pack in one transaction.
-- A reader merges pack and tail per lead in (time, id) order.
--
-- A change, move (merge) or delete of an event of a lead that has a pack
-- unpacks that lead: its other events are copied back into event_scores
-- from the events table and the pack is dropped; the 00006 triggers then
-- handle the event itself. So identify (lead_id NULL -> a lead), merge
-- (every event of A moves to B), erase and cascades keep pack + tail equal
-- to the events table's projection.
CREATE TABLE event_packs (
    lead_id INTEGER PRIMARY KEY,
    n       INTEGER NOT NULL,
    data    BLOB NOT NULL
) WITHOUT ROWID;

-- +goose StatementBegin
CREATE TRIGGER events_packs_update AFTER UPDATE OF lead_id, ts, type, name, properties ON events
WHEN OLD.lead_id IS NOT NULL AND EXISTS (SELECT 1 FROM event_packs WHERE lead_id = OLD.lead_id)
BEGIN
    INSERT OR IGNORE INTO event_scores (lead_id, ts, event_id, sig)
        SELECT e.lead_id, e.ts, e.id, s.id
        FROM events AS e
        JOIN event_sigs AS s ON s.type = e.type AND s.name = e.name
            AND s.path = CASE WHEN instr(e.properties, '"path"') = 0 THEN '' ELSE coalesce(e.properties -> '$.path', '') END
        WHERE e.lead_id = OLD.lead_id AND e.id <> OLD.id;
    DELETE FROM event_packs WHERE lead_id = OLD.lead_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER events_packs_delete AFTER DELETE ON events
WHEN OLD.lead_id IS NOT NULL AND EXISTS (SELECT 1 FROM event_packs WHERE lead_id = OLD.lead_id)
BEGIN
    INSERT OR IGNORE INTO event_scores (lead_id, ts, event_id, sig)
        SELECT e.lead_id, e.ts, e.id, s.id
        FROM events AS e
        JOIN event_sigs AS s ON s.type = e.type AND s.name = e.name
            AND s.path = CASE WHEN instr(e.properties, '"path"') = 0 THEN '' ELSE coalesce(e.properties -> '$.path', '') END
        WHERE e.lead_id = OLD.lead_id AND e.id <> OLD.id;
    DELETE FROM event_packs WHERE lead_id = OLD.lead_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER events_packs_delete;
DROP TRIGGER events_packs_update;
-- Unpack everything before the packs go.
INSERT OR IGNORE INTO event_scores (lead_id, ts, event_id, sig)
SELECT e.lead_id, e.ts, e.id, s.id
FROM events AS e
JOIN event_sigs AS s ON s.type = e.type AND s.name = e.name
    AND s.path = CASE WHEN instr(e.properties, '"path"') = 0 THEN '' ELSE coalesce(e.properties -> '$.path', '') END
WHERE e.lead_id IN (SELECT lead_id FROM event_packs);
DROP TABLE event_packs;

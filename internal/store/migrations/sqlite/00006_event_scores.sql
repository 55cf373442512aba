-- +goose Up
-- A compact scoring copy of events: per event only the lead, the time, the
-- id and a small signature id; the signature dictionary holds each
-- distinct (type, name, properties.path) once. `path` is the JSON text of
-- properties.path ('' when absent), so any value type is kept exactly. A
-- rescore or backtest whose model reads no other event field scans these
-- rows instead of the events with their JSON, and evaluates each rule
-- once per signature. Triggers keep the copy right on every insert, move
-- (identify, merge), change and delete of an event (erasure, cascades).
CREATE TABLE event_sigs (
    id   INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    UNIQUE (type, name, path)
);

CREATE TABLE event_scores (
    lead_id  INTEGER NOT NULL,
    ts       INTEGER NOT NULL,
    event_id INTEGER NOT NULL,
    sig      INTEGER NOT NULL,
    PRIMARY KEY (lead_id, ts, event_id)
) WITHOUT ROWID;

-- +goose StatementBegin
CREATE TRIGGER events_scores_insert AFTER INSERT ON events WHEN NEW.lead_id IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO event_sigs (type, name, path)
        VALUES (NEW.type, NEW.name, CASE WHEN instr(NEW.properties, '"path"') = 0 THEN '' ELSE coalesce(NEW.properties -> '$.path', '') END);
    INSERT INTO event_scores (lead_id, ts, event_id, sig)
        SELECT NEW.lead_id, NEW.ts, NEW.id, id FROM event_sigs
        WHERE type = NEW.type AND name = NEW.name
          AND path = CASE WHEN instr(NEW.properties, '"path"') = 0 THEN '' ELSE coalesce(NEW.properties -> '$.path', '') END;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER events_scores_update AFTER UPDATE OF lead_id, ts, type, name, properties ON events
BEGIN
    DELETE FROM event_scores WHERE lead_id = OLD.lead_id AND ts = OLD.ts AND event_id = OLD.id;
    INSERT OR IGNORE INTO event_sigs (type, name, path)
        SELECT NEW.type, NEW.name, CASE WHEN instr(NEW.properties, '"path"') = 0 THEN '' ELSE coalesce(NEW.properties -> '$.path', '') END
        WHERE NEW.lead_id IS NOT NULL;
    INSERT INTO event_scores (lead_id, ts, event_id, sig)
        SELECT NEW.lead_id, NEW.ts, NEW.id, id FROM event_sigs
        WHERE NEW.lead_id IS NOT NULL AND type = NEW.type AND name = NEW.name
          AND path = CASE WHEN instr(NEW.properties, '"path"') = 0 THEN '' ELSE coalesce(NEW.properties -> '$.path', '') END;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER events_scores_delete AFTER DELETE ON events WHEN OLD.lead_id IS NOT NULL
BEGIN
    DELETE FROM event_scores WHERE lead_id = OLD.lead_id AND ts = OLD.ts AND event_id = OLD.id;
END;
-- +goose StatementEnd

-- Backfill: one pass for the dictionary, one for the rows (sorted, so
-- they are appended to the table in key order).
INSERT OR IGNORE INTO event_sigs (type, name, path)
SELECT DISTINCT type, name, CASE WHEN instr(properties, '"path"') = 0 THEN '' ELSE coalesce(properties -> '$.path', '') END
FROM events NOT INDEXED WHERE lead_id IS NOT NULL;

INSERT INTO event_scores (lead_id, ts, event_id, sig)
SELECT e.lead_id, e.ts, e.id, s.id
FROM events AS e NOT INDEXED
JOIN event_sigs AS s ON s.type = e.type AND s.name = e.name
    AND s.path = CASE WHEN instr(e.properties, '"path"') = 0 THEN '' ELSE coalesce(e.properties -> '$.path', '') END
WHERE e.lead_id IS NOT NULL
ORDER BY e.lead_id, e.ts, e.id;

-- +goose Down
DROP TRIGGER events_scores_delete;
DROP TRIGGER events_scores_update;
DROP TRIGGER events_scores_insert;
DROP TABLE event_scores;
DROP TABLE event_sigs;

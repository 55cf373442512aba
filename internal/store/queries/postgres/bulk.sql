-- PostgreSQL versions of the packing statements of ../bulk.sql: lists of
-- leads travel as arrays, packs are written in one statement, and a batch
-- takes the advisory lock the events trigger takes shared (00013).

-- name: PackRead
SELECT lead_id, data FROM event_packs WHERE lead_id = ANY(?::bigint[])

-- name: PackDelete
DELETE FROM event_packs WHERE lead_id = ANY(?::bigint[])

-- name: PackInsert
INSERT INTO event_packs (lead_id, n, data) SELECT * FROM unnest(?::bigint[], ?::int[], ?::bytea[])

-- name: PackLock
SELECT pg_advisory_xact_lock(7810756212754047851)

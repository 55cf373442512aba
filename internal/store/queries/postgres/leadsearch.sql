-- Text search of the lead list: candidates by the trigram GIN indexes of
-- migration 00015 (a bitmap of the matching leads).
-- name: LeadSearchIDs
SELECT id FROM leads
WHERE (lower(name) LIKE ? ESCAPE '\' OR email LIKE ? ESCAPE '\' OR lower(company) LIKE ? ESCAPE '\') AND erased_at IS NULL
LIMIT ?

-- The trigram GIN entries of an erased lead's old row version go with the
-- row version (VACUUM); there is no index setting to switch.
-- name: LeadSearchSecureDelete
SELECT CAST(? AS INTEGER) WHERE false

-- Webhook endpoints (Standard Webhooks) and their delivery log.

-- name: WebhookEndpointInsert
INSERT INTO webhook_endpoints (url, secret, event_types, description, active, disabled_reason, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, '', ?, ?) RETURNING id

-- name: WebhookEndpointGet
SELECT id, url, secret, event_types, description, active, disabled_reason, created_at, updated_at
FROM webhook_endpoints WHERE id = ?

-- name: WebhookEndpointList
SELECT id, url, secret, event_types, description, active, disabled_reason, created_at, updated_at
FROM webhook_endpoints ORDER BY id

-- name: WebhookEndpointListActive
SELECT id, url, secret, event_types, description, active, disabled_reason, created_at, updated_at
FROM webhook_endpoints WHERE active ORDER BY id

-- name: WebhookEndpointUpdate
UPDATE webhook_endpoints
SET url = ?, event_types = ?, description = ?, active = ?, disabled_reason = ?, updated_at = ?
WHERE id = ?

-- name: WebhookEndpointDelete
DELETE FROM webhook_endpoints WHERE id = ?

-- name: WebhookDeliveryInsert
INSERT INTO webhook_deliveries (endpoint_id, message_id, event_type, payload, status, created_at)
VALUES (?, ?, ?, ?, 'pending', ?) RETURNING id

-- name: WebhookDeliveryGet
SELECT id, endpoint_id, message_id, event_type, payload, status, attempts, response_code, response_body, error,
       created_at, last_attempt_at, delivered_at
FROM webhook_deliveries WHERE id = ?

-- name: WebhookDeliveryList
-- Newest first; id < ? pages backwards (pass a large id for the first page).
SELECT id, endpoint_id, message_id, event_type, payload, status, attempts, response_code, response_body, error,
       created_at, last_attempt_at, delivered_at
FROM webhook_deliveries WHERE endpoint_id = ? AND id < ? ORDER BY id DESC LIMIT ?

-- name: WebhookDeliveryAttempt
UPDATE webhook_deliveries
SET status = ?, attempts = attempts + 1, response_code = ?, response_body = ?, error = ?, last_attempt_at = ?,
    delivered_at = COALESCE(?, delivered_at)
WHERE id = ?

-- name: WebhookDeliveryStatus
UPDATE webhook_deliveries SET status = ?, error = ? WHERE id = ?

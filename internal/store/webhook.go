package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"time"

	"github.com/leadflow/leadflow"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"   // queued or waiting for a retry
	DeliveryDelivered = "delivered" // the endpoint answered 2xx
	DeliveryFailed    = "failed"    // every attempt failed
	DeliveryGone      = "gone"      // the endpoint answered 410 and was disabled
)

// WebhookEndpoint is where webhooks are sent. Secret is the whsec_… signing
// secret; it is never serialised, the API shows it once on creation.
type WebhookEndpoint struct {
	ID     int64  `json:"id"`
	URL    string `json:"url"`
	Secret string `json:"-"`
	// EventTypes are the subscribed types; empty means every type.
	EventTypes     []string  `json:"event_types"`
	Description    string    `json:"description"`
	Active         bool      `json:"active"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Subscribed reports whether the endpoint wants events of the type.
func (e *WebhookEndpoint) Subscribed(eventType string) bool {
	if len(e.EventTypes) == 0 {
		return true
	}
	for _, t := range e.EventTypes {
		if t == eventType {
			return true
		}
	}
	return false
}

// WebhookEndpointUpdate changes the fields that are not nil. Setting Active
// to true re-enables an endpoint and clears its disabled reason.
type WebhookEndpointUpdate struct {
	URL         *string
	EventTypes  *[]string
	Description *string
	Active      *bool
}

// WebhookDelivery is one message to one endpoint and the outcome of its
// last attempt; the message id stays the same across retries and
// redeliveries so receivers can deduplicate.
type WebhookDelivery struct {
	ID            int64           `json:"id"`
	EndpointID    int64           `json:"endpoint_id"`
	MessageID     string          `json:"message_id"`
	EventType     string          `json:"event_type"`
	Payload       json.RawMessage `json:"payload"`
	Status        string          `json:"status"`
	Attempts      int             `json:"attempts"`
	ResponseCode  int             `json:"response_code"`
	ResponseBody  string          `json:"response_body"`
	Error         string          `json:"error"`
	CreatedAt     time.Time       `json:"created_at"`
	LastAttemptAt *time.Time      `json:"last_attempt_at,omitempty"`
	DeliveredAt   *time.Time      `json:"delivered_at,omitempty"`
}

// WebhookAttempt is the outcome of one delivery attempt.
type WebhookAttempt struct {
	Status       string
	ResponseCode int
	ResponseBody string
	Error        string
	At           time.Time
}

func scanEndpoint(r rowScanner) (*WebhookEndpoint, error) {
	var e WebhookEndpoint
	var types string
	var created, updated int64
	if err := r.Scan(&e.ID, &e.URL, &e.Secret, &types, &e.Description, &e.Active, &e.DisabledReason, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return nil, leadflow.Internal(err, "webhook endpoint event types")
	}
	if e.EventTypes == nil {
		e.EventTypes = []string{}
	}
	e.CreatedAt, e.UpdatedAt = fromUS(created), fromUS(updated)
	return &e, nil
}

func eventTypesJSON(types []string) string {
	if types == nil {
		types = []string{}
	}
	b, _ := json.Marshal(types)
	return string(b)
}

// CreateWebhookEndpoint stores an endpoint; the caller validates the URL
// and event types and generates the secret.
func (tx *Tx) CreateWebhookEndpoint(ctx context.Context, e *WebhookEndpoint, actor string) error {
	if e.URL == "" || e.Secret == "" {
		return leadflow.Invalidf("url", "a webhook endpoint needs a URL and a secret")
	}
	e.Active, e.DisabledReason, e.CreatedAt, e.UpdatedAt = true, "", tx.Now, tx.Now
	if e.EventTypes == nil {
		e.EventTypes = []string{}
	}
	err := tx.queryRow(ctx, "WebhookEndpointInsert", e.URL, e.Secret, eventTypesJSON(e.EventTypes), e.Description, true,
		us(tx.Now), us(tx.Now)).Scan(&e.ID)
	if err != nil {
		return wrapDB(err, "insert webhook endpoint")
	}
	return tx.Audit(ctx, actor, "webhook.create", "webhook_endpoint", e.ID, e.URL)
}

// WebhookEndpoint reads one endpoint.
func (db *DB) WebhookEndpoint(ctx context.Context, id int64) (*WebhookEndpoint, error) {
	e, err := scanEndpoint(db.queryRow(ctx, "WebhookEndpointGet", id))
	return e, notFound(wrapDB(err, "webhook endpoint"), "webhook endpoint %d does not exist", id)
}

// WebhookEndpoint reads one endpoint inside the transaction.
func (tx *Tx) WebhookEndpoint(ctx context.Context, id int64) (*WebhookEndpoint, error) {
	e, err := scanEndpoint(tx.queryRow(ctx, "WebhookEndpointGet", id))
	return e, notFound(wrapDB(err, "webhook endpoint"), "webhook endpoint %d does not exist", id)
}

// WebhookEndpoints lists every endpoint, active or not.
func (db *DB) WebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error) {
	return listEndpoints(ctx, db.Read, db.q, "WebhookEndpointList")
}

// ActiveWebhookEndpoints lists the endpoints that receive events, inside
// the transaction that emits them.
func (tx *Tx) ActiveWebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error) {
	return listEndpoints(ctx, tx.Tx, tx.db.q, "WebhookEndpointListActive")
}

func listEndpoints(ctx context.Context, db querier, q queries, name string) ([]WebhookEndpoint, error) {
	rows, err := db.QueryContext(ctx, q.get(name))
	if err != nil {
		return nil, wrapDB(err, "webhook endpoints")
	}
	defer rows.Close()
	out := []WebhookEndpoint{}
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, wrapDB(err, "scan webhook endpoint")
		}
		out = append(out, *e)
	}
	return out, wrapDB(rows.Err(), "webhook endpoints")
}

// UpdateWebhookEndpoint applies u and returns the endpoint as stored.
func (tx *Tx) UpdateWebhookEndpoint(ctx context.Context, id int64, u WebhookEndpointUpdate, actor string) (*WebhookEndpoint, error) {
	e, err := tx.WebhookEndpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.URL != nil {
		e.URL = *u.URL
	}
	if u.EventTypes != nil {
		e.EventTypes = *u.EventTypes
	}
	if u.Description != nil {
		e.Description = *u.Description
	}
	if u.Active != nil {
		e.Active = *u.Active
		if e.Active {
			e.DisabledReason = ""
		} else if e.DisabledReason == "" {
			e.DisabledReason = "disabled by " + actor
		}
	}
	if err := tx.writeEndpoint(ctx, e); err != nil {
		return nil, err
	}
	return e, tx.Audit(ctx, actor, "webhook.update", "webhook_endpoint", id, e.URL)
}

// DisableWebhookEndpoint stops deliveries to an endpoint and records why
// (e.g. it answered 410 Gone).
func (tx *Tx) DisableWebhookEndpoint(ctx context.Context, id int64, reason string) error {
	e, err := tx.WebhookEndpoint(ctx, id)
	if err != nil {
		return err
	}
	e.Active, e.DisabledReason = false, reason
	if err := tx.writeEndpoint(ctx, e); err != nil {
		return err
	}
	return tx.Audit(ctx, "system", "webhook.disable", "webhook_endpoint", id, reason)
}

func (tx *Tx) writeEndpoint(ctx context.Context, e *WebhookEndpoint) error {
	e.UpdatedAt = tx.Now
	_, err := tx.exec(ctx, "WebhookEndpointUpdate", e.URL, eventTypesJSON(e.EventTypes), e.Description, e.Active,
		e.DisabledReason, us(tx.Now), e.ID)
	return err
}

// DeleteWebhookEndpoint removes an endpoint and its delivery log.
func (tx *Tx) DeleteWebhookEndpoint(ctx context.Context, id int64, actor string) error {
	res, err := tx.exec(ctx, "WebhookEndpointDelete", id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return leadflow.Errorf(leadflow.ENOTFOUND, "webhook endpoint %d does not exist", id)
	}
	return tx.Audit(ctx, actor, "webhook.delete", "webhook_endpoint", id, "")
}

func scanDelivery(r rowScanner) (*WebhookDelivery, error) {
	var d WebhookDelivery
	var payload string
	var created int64
	var last, delivered sql.NullInt64
	if err := r.Scan(&d.ID, &d.EndpointID, &d.MessageID, &d.EventType, &payload, &d.Status, &d.Attempts,
		&d.ResponseCode, &d.ResponseBody, &d.Error, &created, &last, &delivered); err != nil {
		return nil, err
	}
	d.Payload = json.RawMessage(payload)
	d.CreatedAt = fromUS(created)
	if last.Valid {
		t := fromUS(last.Int64)
		d.LastAttemptAt = &t
	}
	if delivered.Valid {
		t := fromUS(delivered.Int64)
		d.DeliveredAt = &t
	}
	return &d, nil
}

// CreateWebhookDelivery stores a pending delivery (the job that sends it
// is inserted in the same transaction).
func (tx *Tx) CreateWebhookDelivery(ctx context.Context, d *WebhookDelivery) error {
	d.Status, d.CreatedAt = DeliveryPending, tx.Now
	err := tx.queryRow(ctx, "WebhookDeliveryInsert", d.EndpointID, d.MessageID, d.EventType, string(d.Payload), us(tx.Now)).Scan(&d.ID)
	return wrapDB(err, "insert webhook delivery")
}

// WebhookDelivery reads one delivery.
func (db *DB) WebhookDelivery(ctx context.Context, id int64) (*WebhookDelivery, error) {
	d, err := scanDelivery(db.queryRow(ctx, "WebhookDeliveryGet", id))
	return d, notFound(wrapDB(err, "webhook delivery"), "webhook delivery %d does not exist", id)
}

// WebhookDelivery reads one delivery inside the transaction.
func (tx *Tx) WebhookDelivery(ctx context.Context, id int64) (*WebhookDelivery, error) {
	d, err := scanDelivery(tx.queryRow(ctx, "WebhookDeliveryGet", id))
	return d, notFound(wrapDB(err, "webhook delivery"), "webhook delivery %d does not exist", id)
}

// WebhookDeliveries returns an endpoint's delivery log, newest first, up
// to limit rows with an id below beforeID (0: from the newest).
func (db *DB) WebhookDeliveries(ctx context.Context, endpointID int64, beforeID int64, limit int) ([]WebhookDelivery, error) {
	if beforeID <= 0 {
		beforeID = math.MaxInt64
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := db.Read.QueryContext(ctx, db.q.get("WebhookDeliveryList"), endpointID, beforeID, limit)
	if err != nil {
		return nil, wrapDB(err, "webhook deliveries")
	}
	defer rows.Close()
	out := []WebhookDelivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, wrapDB(err, "scan webhook delivery")
		}
		out = append(out, *d)
	}
	return out, wrapDB(rows.Err(), "webhook deliveries")
}

// RecordWebhookAttempt logs one attempt: it counts it, keeps the response
// code, body and error of the latest attempt and sets the status.
func (tx *Tx) RecordWebhookAttempt(ctx context.Context, id int64, a WebhookAttempt) error {
	var delivered any
	if a.Status == DeliveryDelivered {
		delivered = us(a.At)
	}
	res, err := tx.exec(ctx, "WebhookDeliveryAttempt", a.Status, a.ResponseCode, a.ResponseBody, a.Error, us(a.At), delivered, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return leadflow.Errorf(leadflow.ENOTFOUND, "webhook delivery %d does not exist", id)
	}
	return nil
}

// SetWebhookDeliveryStatus changes a delivery's status without counting an
// attempt (pending again for a redelivery, failed when its endpoint is
// disabled).
func (tx *Tx) SetWebhookDeliveryStatus(ctx context.Context, id int64, status, errText string) error {
	res, err := tx.exec(ctx, "WebhookDeliveryStatus", status, errText, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return leadflow.Errorf(leadflow.ENOTFOUND, "webhook delivery %d does not exist", id)
	}
	return nil
}

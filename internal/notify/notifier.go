package notify

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/store"
)

// Options configure a Notifier.
type Options struct {
	Logger *slog.Logger
	// BaseURL is where people open leadflow; links to a lead are
	// BaseURL + "/leads/{id}". The settings document's base_url wins.
	BaseURL string
	// HTTPClient sends webhooks and chat messages; default: one that does
	// not follow redirects (the spec counts 3xx as a failure).
	HTTPClient *http.Client
	// Now is the clock of delivery records and signatures.
	Now func() time.Time
}

// Notifier queues notifications in the caller's transaction and sends them
// from River workers.
type Notifier struct {
	db     *store.DB
	queue  *jobs.Queue
	log    *slog.Logger
	base   string
	client *http.Client
	now    func() time.Time
	tmpl   *templates

	mu        sync.Mutex
	cachedSrc string
	cached    *Settings
}

var _ Emitter = (*Notifier)(nil)

// New returns a notifier. queue may be nil at first and set with SetQueue,
// because the queue's workers are registered before the queue exists.
func New(db *store.DB, queue *jobs.Queue, opts Options) *Notifier {
	n := &Notifier{db: db, queue: queue, log: opts.Logger, base: opts.BaseURL, client: opts.HTTPClient, now: opts.Now,
		tmpl: mustTemplates()}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if n.client == nil {
		n.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if n.now == nil {
		n.now = time.Now
	}
	return n
}

// SetQueue gives the notifier the queue it inserts jobs into.
func (n *Notifier) SetQueue(q *jobs.Queue) { n.queue = q }

// Retry policy: exponential backoff (×3 from 5 s, capped at 6 h) with ±20 %
// jitter, 14 attempts in all: the retries span about 34 hours and at least
// 27, more than the day a receiver may be down (Standard Webhooks suggests
// a schedule spanning days).
const (
	MaxAttempts  = 14
	retryBase    = 5 * time.Second
	retryFactor  = 3
	retryCap     = 6 * time.Hour
	retryJitter  = 0.2
	sendTimeout  = 10 * time.Second
	jobTimeout   = 60 * time.Second
	maxBodyShown = 1024
)

// Backoff is the nominal delay after the n-th failed attempt (n ≥ 1),
// before jitter.
func Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	d := retryBase
	for i := 1; i < n; i++ {
		d *= retryFactor
		if d >= retryCap {
			return retryCap
		}
	}
	return d
}

// nextRetry is Backoff(n) with jitter.
func nextRetry(now time.Time, n int) time.Time {
	d := float64(Backoff(n)) * (1 - retryJitter + 2*retryJitter*rand.Float64())
	return now.Add(time.Duration(d))
}

// WebhookArgs sends one stored delivery.
type WebhookArgs struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Kind implements river.JobArgs.
func (WebhookArgs) Kind() string { return "notify_webhook" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (WebhookArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: MaxAttempts} }

// EmailArgs emails one event to one person.
type EmailArgs struct {
	To     string `json:"to"`
	ToName string `json:"to_name,omitempty"`
	Event  Event  `json:"event"`
}

// Kind implements river.JobArgs.
func (EmailArgs) Kind() string { return "notify_email" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (EmailArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: MaxAttempts} }

// ChatArgs posts one event to the chat webhook.
type ChatArgs struct {
	Event Event `json:"event"`
}

// Kind implements river.JobArgs.
func (ChatArgs) Kind() string { return "notify_chat" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ChatArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: MaxAttempts} }

// Register adds the notification workers; pass it in jobs.Handlers.Register.
func (n *Notifier) Register(w *river.Workers) {
	river.AddWorker(w, &webhookWorker{n: n})
	river.AddWorker(w, &emailWorker{n: n})
	river.AddWorker(w, &chatWorker{n: n})
}

// Settings returns the notification settings; an empty document when none
// is stored.
func (n *Notifier) Settings(ctx context.Context) (*Settings, error) {
	s, err := n.db.Setting(ctx, store.SettingNotifications)
	return n.parsed(s, err)
}

func (n *Notifier) settingsTx(ctx context.Context, tx *store.Tx) (*Settings, error) {
	s, err := tx.Setting(ctx, store.SettingNotifications)
	return n.parsed(s, err)
}

// parsed parses a stored document, remembering the last one: Emit runs
// for every event and the document rarely changes.
func (n *Notifier) parsed(s *store.Setting, err error) (*Settings, error) {
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return &Settings{}, nil
	} else if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cached != nil && n.cachedSrc == s.Value {
		return n.cached, nil
	}
	parsed, err := ParseSettings([]byte(s.Value))
	if err != nil {
		// A stored document was validated when it was put; failing every
		// event because of it would lose the webhooks too.
		n.log.Error("notification settings do not parse; email and chat are off", "err", err)
		return &Settings{}, nil
	}
	n.cached, n.cachedSrc = parsed, s.Value
	return parsed, nil
}

func (n *Notifier) baseURL(s *Settings) string {
	if s.BaseURL != "" {
		return s.BaseURL
	}
	return trimSlash(n.base)
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// LeadURL is the link to a lead in the UI, or "" without a base URL.
func LeadURL(base string, id int64) string {
	if base == "" || id == 0 {
		return ""
	}
	return trimSlash(base) + "/leads/" + strconv.FormatInt(id, 10)
}

// payload is the webhook body (Standard Webhooks' recommended shape).
type payload struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// normalize returns the event with Data in its JSON form (structs become
// maps), lead_id and lead_url added, and At set.
func normalize(ev Event, now time.Time, base string) (Event, error) {
	data := map[string]any{}
	if len(ev.Data) > 0 {
		b, err := json.Marshal(ev.Data)
		if err != nil {
			return ev, leadflow.Internal(err, "event data is not JSON")
		}
		if err := json.Unmarshal(b, &data); err != nil {
			return ev, leadflow.Internal(err, "event data")
		}
	}
	if ev.LeadID != 0 {
		data[DataLeadID] = ev.LeadID
		if u := LeadURL(base, ev.LeadID); u != "" {
			data[DataLeadURL] = u
		}
	}
	ev.Data = data
	if ev.At.IsZero() {
		ev.At = now
	}
	ev.At = ev.At.UTC()
	return ev, nil
}

// Emit queues the event's notifications in tx: a delivery and a job for
// each active endpoint subscribed to its type, an email to the owner and a
// chat message when the settings ask for them. They are sent only if tx
// commits.
func (n *Notifier) Emit(ctx context.Context, tx *store.Tx, ev Event) error {
	if !ValidEventType(ev.Type) {
		return leadflow.Errorf(leadflow.EINVALID, "unknown event type %q", ev.Type)
	}
	if n.queue == nil {
		return leadflow.Errorf(leadflow.EINTERNAL, "notifier has no queue")
	}
	set, err := n.settingsTx(ctx, tx)
	if err != nil {
		return err
	}
	ev, err = normalize(ev, tx.Now, n.baseURL(set))
	if err != nil {
		return err
	}
	endpoints, err := tx.ActiveWebhookEndpoints(ctx)
	if err != nil {
		return err
	}
	var body []byte
	for _, e := range endpoints {
		if !e.Subscribed(ev.Type) {
			continue
		}
		if body == nil {
			if body, err = json.Marshal(payload{Type: ev.Type, Timestamp: ev.At, Data: ev.Data}); err != nil {
				return leadflow.Internal(err, "webhook payload")
			}
		}
		d := &store.WebhookDelivery{EndpointID: e.ID, MessageID: NewMessageID(), EventType: ev.Type, Payload: body}
		if err := tx.CreateWebhookDelivery(ctx, d); err != nil {
			return err
		}
		if err := n.queue.Insert(ctx, tx, WebhookArgs{DeliveryID: d.ID}); err != nil {
			return err
		}
	}
	if set.emails(ev.Type) && ev.Owner != "" {
		u, err := tx.FindUser(ctx, ev.Owner)
		switch {
		case leadflow.ErrorCode(err) == leadflow.ENOTFOUND || (err == nil && (u.Email == "" || !u.Active)):
			n.log.Warn("the owner has no email; not emailed", "owner", ev.Owner, "event", ev.Type, "lead", ev.LeadID)
		case err != nil:
			return err
		default:
			name := u.DisplayName
			if name == "" {
				name = u.Name
			}
			if err := n.queue.Insert(ctx, tx, EmailArgs{To: u.Email, ToName: name, Event: ev}); err != nil {
				return err
			}
		}
	}
	if set.chats(ev.Type) {
		if err := n.queue.Insert(ctx, tx, ChatArgs{Event: ev}); err != nil {
			return err
		}
	}
	return nil
}

// Redeliver sends a stored delivery again (same message id and payload,
// new timestamp and signature), e.g. after a receiver's outage.
func (n *Notifier) Redeliver(ctx context.Context, deliveryID int64) (*store.WebhookDelivery, error) {
	if n.queue == nil {
		return nil, leadflow.Errorf(leadflow.EINTERNAL, "notifier has no queue")
	}
	var out *store.WebhookDelivery
	err := n.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := tx.WebhookDelivery(ctx, deliveryID)
		if err != nil {
			return err
		}
		e, err := tx.WebhookEndpoint(ctx, d.EndpointID)
		if err != nil {
			return err
		}
		if !e.Active {
			return leadflow.Errorf(leadflow.ECONFLICT, "webhook endpoint %d is disabled (%s): re-enable it (PATCH active: true) before redelivering", e.ID, e.DisabledReason)
		}
		if err := tx.SetWebhookDeliveryStatus(ctx, d.ID, store.DeliveryPending, ""); err != nil {
			return err
		}
		d.Status, d.Error = store.DeliveryPending, ""
		out = d
		return n.queue.Insert(ctx, tx, WebhookArgs{DeliveryID: d.ID})
	})
	return out, err
}

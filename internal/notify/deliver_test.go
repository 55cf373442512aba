package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// setup starts a real River client working the notification jobs.
func setup(t *testing.T, db *store.DB) (*notify.Notifier, *jobs.Queue) {
	t.Helper()
	n := notify.New(db, nil, notify.Options{BaseURL: "http://leadflow.test/"})
	noop := func(context.Context) error { return nil }
	q, err := jobs.New(db, &jobs.Handlers{
		Rescore:    func(context.Context, int64) error { return nil },
		DecaySweep: noop,
		Register:   []func(*river.Workers){n.Register},
	}, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	n.SetQueue(q)
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	return n, q
}

// receiver is a webhook endpoint that verifies every request and answers
// with the next status of its script (the last one repeats).
type receiver struct {
	*httptest.Server
	secret string
	mu     sync.Mutex
	script []int
	got    []received
}

type received struct {
	id, ts, sig, contentType string
	body                     []byte
	verifyErr                error
}

func newReceiver(t *testing.T, script ...int) *receiver {
	r := &receiver{secret: notify.NewSecret(), script: script}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		rec := received{id: req.Header.Get(notify.HeaderID), ts: req.Header.Get(notify.HeaderTimestamp),
			sig: req.Header.Get(notify.HeaderSignature), contentType: req.Header.Get("Content-Type"), body: b,
			verifyErr: notify.Verify(r.secret, req.Header, b, time.Now(), 0)}
		r.got = append(r.got, rec)
		status := r.script[min(len(r.got), len(r.script))-1]
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"ok":` + map[bool]string{true: "true", false: "false"}[status < 300] + `}`))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) calls() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func createEndpoint(t *testing.T, db *store.DB, r *receiver, types ...string) *store.WebhookEndpoint {
	t.Helper()
	e := &store.WebhookEndpoint{URL: r.URL, Secret: r.secret, EventTypes: types}
	if err := db.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateWebhookEndpoint(context.Background(), e, "test") }); err != nil {
		t.Fatal(err)
	}
	return e
}

// waitDelivery polls the endpoint's newest delivery until done says so.
func waitDelivery(t *testing.T, db *store.DB, endpointID int64, done func(d store.WebhookDelivery) bool) store.WebhookDelivery {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds, err := db.WebhookDeliveries(context.Background(), endpointID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) > 0 && done(ds[0]) {
			return ds[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("endpoint %d: deliveries %+v", endpointID, ds)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestWebhookDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, _ := setup(t, db)

		ok := newReceiver(t, 200)
		flaky := newReceiver(t, 500, 204)
		gone := newReceiver(t, 410)
		other := newReceiver(t, 200)
		epOK := createEndpoint(t, db, ok, notify.LeadAssigned)
		epFlaky := createEndpoint(t, db, flaky) // every type
		epGone := createEndpoint(t, db, gone)
		epOther := createEndpoint(t, db, other, notify.SLABreached)
		ev := notify.Event{Type: notify.LeadAssigned, LeadID: 42, At: time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC),
			Data: map[string]any{notify.DataOwner: "sato", notify.DataLead: map[string]any{"name": "山田 太郎"}}}
		// A rolled back transaction sends nothing.
		rollback := leadflow.Errorf(leadflow.ECONFLICT, "rolled back")
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := n.Emit(ctx, tx, ev); err != nil {
				return err
			}
			return rollback
		}); err != rollback {
			t.Fatalf("emit in a rolled back tx: %v", err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return n.Emit(ctx, tx, ev) }); err != nil {
			t.Fatal(err)
		}

		d := waitDelivery(t, db, epOK.ID, func(d store.WebhookDelivery) bool { return d.Status != store.DeliveryPending })
		if d.Status != store.DeliveryDelivered || d.Attempts != 1 || d.ResponseCode != 200 || d.DeliveredAt == nil || d.ResponseBody != `{"ok":true}` {
			t.Fatalf("ok delivery: %+v", d)
		}
		calls := ok.calls()
		if len(calls) != 1 || calls[0].verifyErr != nil || calls[0].id != d.MessageID || calls[0].contentType != "application/json" {
			t.Fatalf("ok receiver got %+v", calls)
		}
		var body struct {
			Type      string         `json:"type"`
			Timestamp time.Time      `json:"timestamp"`
			Data      map[string]any `json:"data"`
		}
		if err := json.Unmarshal(calls[0].body, &body); err != nil {
			t.Fatal(err)
		}
		if body.Type != notify.LeadAssigned || !body.Timestamp.Equal(ev.At) || body.Data["owner"] != "sato" ||
			body.Data["lead_id"] != float64(42) || body.Data["lead_url"] != "http://leadflow.test/leads/42" {
			t.Fatalf("payload: %s", calls[0].body)
		}

		// 500, then River retries after the backoff and it is delivered.
		d = waitDelivery(t, db, epFlaky.ID, func(d store.WebhookDelivery) bool { return d.Status == store.DeliveryDelivered })
		fc := flaky.calls()
		if d.Attempts != 2 || d.ResponseCode != 204 || d.Error != "" || len(fc) != 2 || fc[0].id != fc[1].id || fc[1].verifyErr != nil {
			t.Fatalf("flaky: %+v, calls %+v", d, fc)
		}

		// 410 disables the endpoint, no retry.
		d = waitDelivery(t, db, epGone.ID, func(d store.WebhookDelivery) bool { return d.Status != store.DeliveryPending })
		if d.Status != store.DeliveryGone || d.ResponseCode != 410 || d.Attempts != 1 {
			t.Fatalf("gone: %+v", d)
		}
		if e, _ := db.WebhookEndpoint(ctx, epGone.ID); e.Active || e.DisabledReason == "" {
			t.Fatalf("gone endpoint still active: %+v", e)
		}
		if ds, _ := db.WebhookDeliveries(ctx, epOther.ID, 0, 10); len(ds) != 0 {
			t.Fatalf("unsubscribed endpoint got %+v", ds)
		}

		// Manual redelivery: same message id, a new attempt.
		okD, _ := db.WebhookDeliveries(ctx, epOK.ID, 0, 1)
		if _, err := n.Redeliver(ctx, okD[0].ID); err != nil {
			t.Fatal(err)
		}
		d = waitDelivery(t, db, epOK.ID, func(d store.WebhookDelivery) bool { return d.Attempts == 2 && d.Status == store.DeliveryDelivered })
		if calls := ok.calls(); len(calls) != 2 || calls[1].id != calls[0].id || calls[1].verifyErr != nil {
			t.Fatalf("redelivery: %+v", calls)
		}
		goneD, _ := db.WebhookDeliveries(ctx, epGone.ID, 0, 1)
		if _, err := n.Redeliver(ctx, goneD[0].ID); leadflow.ErrorCode(err) != leadflow.ECONFLICT {
			t.Fatalf("redeliver to a disabled endpoint: %v", err)
		}
		if _, err := n.Redeliver(ctx, 999999); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			t.Fatalf("redeliver unknown: %v", err)
		}
		if len(gone.calls()) != 1 {
			t.Fatalf("gone endpoint called %d times", len(gone.calls()))
		}
	})
}

func TestDeliverFinalFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n := notify.New(db, nil, notify.Options{})
		r := newReceiver(t, 503)
		ep := createEndpoint(t, db, r)
		var d store.WebhookDelivery
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			d = store.WebhookDelivery{EndpointID: ep.ID, MessageID: notify.NewMessageID(), EventType: notify.SLABreached, Payload: []byte(`{}`)}
			return tx.CreateWebhookDelivery(ctx, &d)
		}); err != nil {
			t.Fatal(err)
		}
		if err := n.Deliver(ctx, d.ID, false); err == nil {
			t.Fatal("a 503 is an error River retries")
		}
		got, _ := db.WebhookDelivery(ctx, d.ID)
		if got.Status != store.DeliveryPending || got.ResponseCode != 503 || got.Error != "HTTP 503" {
			t.Fatalf("after a retryable failure: %+v", got)
		}
		if err := n.Deliver(ctx, d.ID, true); err == nil {
			t.Fatal("the last failure is still an error")
		}
		if got, _ := db.WebhookDelivery(ctx, d.ID); got.Status != store.DeliveryFailed || got.Attempts != 2 {
			t.Fatalf("after the last attempt: %+v", got)
		}
		// A dead endpoint: the network error is logged.
		r.Close()
		if err := n.Deliver(ctx, d.ID, false); err == nil {
			t.Fatal("connection refused is an error")
		}
		if got, _ := db.WebhookDelivery(ctx, d.ID); got.ResponseCode != 0 || got.Error == "" || got.Attempts != 3 {
			t.Fatalf("after a network error: %+v", got)
		}
	})
}

// TestReceiverDownThenUp: a receiver that verifies signatures is down while
// several notifications are sent, then comes back. Every notification
// arrives, each under its own webhook-id; after deduplicating by id the
// receiver has each exactly once, and nothing is lost.
func TestReceiverDownThenUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, _ := setup(t, db)
		rcv := newReceiver(t, 503, 503, 503, 503, 503, 200)
		ep := createEndpoint(t, db, rcv)
		const sent = 5
		for i := 0; i < sent; i++ {
			ev := notify.Event{Type: notify.LeadStageChanged, LeadID: int64(100 + i), At: time.Now().UTC(),
				Data: map[string]any{notify.DataTo: "mql"}}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return n.Emit(ctx, tx, ev) }); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			ds, err := db.WebhookDeliveries(ctx, ep.ID, 0, 20)
			if err != nil {
				t.Fatal(err)
			}
			delivered := 0
			for _, d := range ds {
				if d.Status == store.DeliveryDelivered {
					delivered++
				}
			}
			if len(ds) == sent && delivered == sent {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 60 s: %d deliveries, %d delivered: %+v", len(ds), delivered, ds)
			}
			time.Sleep(200 * time.Millisecond)
		}
		ok := map[string]int{}
		for _, c := range rcv.calls() {
			if c.verifyErr != nil {
				t.Fatalf("signature did not verify: %v", c.verifyErr)
			}
			ok[c.id]++
		}
		if len(ok) != sent {
			t.Fatalf("receiver saw %d distinct webhook-ids, want %d: %v", len(ok), sent, ok)
		}
	})
}

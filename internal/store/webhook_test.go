package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func TestWebhookEndpointsAndDeliveries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ep := &store.WebhookEndpoint{URL: "https://crm.example.com/hook", Secret: "whsec_abc",
			EventTypes: []string{"lead.assigned"}, Description: "CRM"}
		other := &store.WebhookEndpoint{URL: "https://other.example.com/", Secret: "whsec_def"}
		var d1, d2 store.WebhookDelivery
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateWebhookEndpoint(ctx, ep, "test"); err != nil {
				return err
			}
			if err := tx.CreateWebhookEndpoint(ctx, other, "test"); err != nil {
				return err
			}
			d1 = store.WebhookDelivery{EndpointID: ep.ID, MessageID: "msg_1", EventType: "lead.assigned", Payload: json.RawMessage(`{"type":"lead.assigned"}`)}
			if err := tx.CreateWebhookDelivery(ctx, &d1); err != nil {
				return err
			}
			d2 = store.WebhookDelivery{EndpointID: ep.ID, MessageID: "msg_2", EventType: "lead.assigned", Payload: json.RawMessage(`{}`)}
			return tx.CreateWebhookDelivery(ctx, &d2)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.WebhookEndpoint(ctx, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.URL != ep.URL || got.Secret != "whsec_abc" || !got.Active || len(got.EventTypes) != 1 ||
			!got.Subscribed("lead.assigned") || got.Subscribed("sla.breached") {
			t.Fatalf("endpoint round trip: %+v", got)
		}
		if o, _ := db.WebhookEndpoint(ctx, other.ID); !o.Subscribed("sla.breached") || o.EventTypes == nil {
			t.Fatalf("an endpoint with no types gets every type: %+v", o)
		}

		// Attempts: a failure, then success.
		t0 := time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC)
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.RecordWebhookAttempt(ctx, d1.ID, store.WebhookAttempt{Status: store.DeliveryPending, ResponseCode: 500, ResponseBody: "oops", Error: "HTTP 500", At: t0}); err != nil {
				return err
			}
			return tx.RecordWebhookAttempt(ctx, d1.ID, store.WebhookAttempt{Status: store.DeliveryDelivered, ResponseCode: 200, At: t0.Add(time.Minute)})
		})
		if err != nil {
			t.Fatal(err)
		}
		d, err := db.WebhookDelivery(ctx, d1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != store.DeliveryDelivered || d.Attempts != 2 || d.ResponseCode != 200 || d.Error != "" ||
			d.DeliveredAt == nil || !d.DeliveredAt.Equal(t0.Add(time.Minute)) || string(d.Payload) != `{"type":"lead.assigned"}` {
			t.Fatalf("delivery after attempts: %+v", d)
		}
		log, err := db.WebhookDeliveries(ctx, ep.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 2 || log[0].ID != d2.ID || log[1].ID != d1.ID {
			t.Fatalf("log is newest first: %+v", log)
		}
		if page, _ := db.WebhookDeliveries(ctx, ep.ID, d2.ID, 10); len(page) != 1 || page[0].ID != d1.ID {
			t.Fatalf("page before %d: %+v", d2.ID, page)
		}

		// Disable (410), re-enable, update, delete.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.DisableWebhookEndpoint(ctx, ep.ID, "410 Gone"); err != nil {
				return err
			}
			act, err := tx.ActiveWebhookEndpoints(ctx)
			if err != nil {
				return err
			}
			if len(act) != 1 || act[0].ID != other.ID {
				t.Errorf("active endpoints after disable: %+v", act)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if g, _ := db.WebhookEndpoint(ctx, ep.ID); g.Active || g.DisabledReason != "410 Gone" {
			t.Fatalf("disabled: %+v", g)
		}
		on, url := true, "https://crm.example.com/v2"
		types := []string{}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.UpdateWebhookEndpoint(ctx, ep.ID, store.WebhookEndpointUpdate{Active: &on, URL: &url, EventTypes: &types}, "test")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if g, _ := db.WebhookEndpoint(ctx, ep.ID); !g.Active || g.DisabledReason != "" || g.URL != url || len(g.EventTypes) != 0 {
			t.Fatalf("re-enabled: %+v", g)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteWebhookEndpoint(ctx, ep.ID, "test") })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.WebhookDelivery(ctx, d1.ID); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			t.Fatalf("deliveries go with their endpoint: %v", err)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteWebhookEndpoint(ctx, ep.ID, "test") })
		if leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			t.Fatalf("delete twice: %v", err)
		}
	})
}

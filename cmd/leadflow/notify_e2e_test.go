package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/notify/mailpittest"
)

// TestNotificationsEndToEnd drives webhooks and email through the API of
// a running leadflow: an endpoint is added, a touch logged on a lead
// reaches it signed, the delivery log shows it and it can be redelivered;
// the SMTP settings are stored masked and a test email reaches a real
// mailpit.
func TestNotificationsEndToEnd(t *testing.T) {
	mp := mailpittest.Start(t)
	for _, backend := range backends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, backend)

			var mu sync.Mutex
			var got []*http.Request
			var bodies [][]byte
			var secret string
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				got, bodies = append(got, r), append(bodies, b)
				mu.Unlock()
				w.WriteHeader(http.StatusNoContent)
			}))
			defer hook.Close()

			// Validation: clear 400s.
			for _, bad := range []struct{ body, want string }{
				{`{"url":"ftp://crm.example.com/x"}`, "not an http(s) URL"},
				{`{"url":"https://crm.example.com/x","event_types":["lead.deleted"]}`, `unknown event type \"lead.deleted\"`},
			} {
				code, b := s.do(t, "POST", "/api/v1/webhooks", "application/json", strings.NewReader(bad.body))
				if code != http.StatusBadRequest || !strings.Contains(string(b), bad.want) {
					t.Fatalf("POST %s: %d %s", bad.body, code, b)
				}
			}

			code, b := s.do(t, "POST", "/api/v1/webhooks", "application/json",
				strings.NewReader(fmt.Sprintf(`{"url":%q,"event_types":["lead.touch_logged"],"description":"CRM"}`, hook.URL)))
			if code != http.StatusCreated {
				t.Fatalf("create webhook: %d %s", code, b)
			}
			var ep struct {
				ID     int64  `json:"id"`
				Secret string `json:"secret"`
				Active bool   `json:"active"`
			}
			if err := json.Unmarshal(b, &ep); err != nil || !strings.HasPrefix(ep.Secret, "whsec_") || !ep.Active {
				t.Fatalf("created: %s (%v)", b, err)
			}
			secret = ep.Secret
			if code, b := s.do(t, "GET", fmt.Sprintf("/api/v1/webhooks/%d", ep.ID), "", nil); code != 200 || strings.Contains(string(b), secret) {
				t.Fatalf("get webhook shows the secret or fails: %d %s", code, b)
			}

			// A touch on a lead is notified.
			code, b = s.do(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(`{"email":"taro@example.co.jp","name":"山田 太郎","company":"山田製作所"}`))
			if code != http.StatusCreated && code != http.StatusOK {
				t.Fatalf("create lead: %d %s", code, b)
			}
			var lead struct {
				ID int64 `json:"id"`
			}
			_ = json.Unmarshal(b, &lead)
			code, b = s.do(t, "POST", fmt.Sprintf("/api/v1/leads/%d/touches", lead.ID), "application/json", strings.NewReader(`{"kind":"call","outcome":"connected"}`))
			if code >= 300 {
				t.Fatalf("log touch: %d %s", code, b)
			}
			waitNotify(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 1 })
			mu.Lock()
			req, body := got[0], bodies[0]
			mu.Unlock()
			if err := notify.Verify(secret, req.Header, body, time.Now(), 0); err != nil {
				t.Fatalf("signature: %v (%s)", err, body)
			}
			var payload struct {
				Type string         `json:"type"`
				Data map[string]any `json:"data"`
			}
			if err := json.Unmarshal(body, &payload); err != nil || payload.Type != notify.LeadTouchLogged || payload.Data["lead_id"] != float64(lead.ID) {
				t.Fatalf("payload: %s", body)
			}

			// The log, then a redelivery with the same message id.
			var log struct {
				Items []struct {
					ID           int64  `json:"id"`
					MessageID    string `json:"message_id"`
					Status       string `json:"status"`
					ResponseCode int    `json:"response_code"`
					Attempts     int    `json:"attempts"`
				} `json:"items"`
			}
			readLog := func() {
				code, b := s.do(t, "GET", fmt.Sprintf("/api/v1/webhooks/%d/deliveries", ep.ID), "", nil)
				if code != 200 {
					t.Fatalf("deliveries: %d %s", code, b)
				}
				_ = json.Unmarshal(b, &log)
			}
			waitNotify(t, func() bool { readLog(); return len(log.Items) == 1 && log.Items[0].Status == "delivered" })
			if log.Items[0].ResponseCode != 204 || log.Items[0].MessageID != req.Header.Get("webhook-id") {
				t.Fatalf("log: %+v", log.Items)
			}
			code, b = s.do(t, "POST", fmt.Sprintf("/api/v1/webhooks/deliveries/%d/redeliver", log.Items[0].ID), "", nil)
			if code != http.StatusAccepted {
				t.Fatalf("redeliver: %d %s", code, b)
			}
			waitNotify(t, func() bool { readLog(); return log.Items[0].Attempts == 2 && log.Items[0].Status == "delivered" })
			mu.Lock()
			if len(got) != 2 || got[1].Header.Get("webhook-id") != got[0].Header.Get("webhook-id") {
				t.Errorf("redelivery: %d requests", len(got))
			}
			mu.Unlock()

			// Pause and re-enable.
			code, b = s.do(t, "PATCH", fmt.Sprintf("/api/v1/webhooks/%d", ep.ID), "application/json", strings.NewReader(`{"active":false}`))
			if code != 200 || !strings.Contains(string(b), `"active":false`) {
				t.Fatalf("pause: %d %s", code, b)
			}
			if code, b := s.do(t, "POST", fmt.Sprintf("/api/v1/webhooks/deliveries/%d/redeliver", log.Items[0].ID), "", nil); code != http.StatusConflict {
				t.Fatalf("redeliver to a paused endpoint: %d %s", code, b)
			}
			if code, b := s.do(t, "PATCH", fmt.Sprintf("/api/v1/webhooks/%d", ep.ID), "application/json", strings.NewReader(`{"active":true}`)); code != 200 || !strings.Contains(string(b), `"active":true`) {
				t.Fatalf("re-enable: %d %s", code, b)
			}

			// Settings: stored, shown masked, kept when the mask comes back.
			doc := fmt.Sprintf("smtp:\n  host: 127.0.0.1\n  port: %d\n  username: \"\"\n  password: \"\"\n  from: \"リードフロー <leadflow@example.com>\"\n  tls: none\n"+
				"chat:\n  url: https://hooks.slack.com/services/T0/B0/SECRETTOKEN\nbase_url: http://leadflow.example.com\n", mp.SMTPPort)
			if code, b := s.do(t, "PUT", "/api/v1/settings/notifications", "application/yaml", strings.NewReader(doc)); code != 200 || strings.Contains(string(b), "SECRETTOKEN") {
				t.Fatalf("put settings: %d %s", code, b)
			}
			code, b = s.do(t, "GET", "/api/v1/settings/notifications", "", nil)
			if code != 200 || strings.Contains(string(b), "SECRETTOKEN") || !strings.Contains(string(b), notify.Mask) {
				t.Fatalf("get settings: %d %s", code, b)
			}
			if code, b := s.do(t, "PUT", "/api/v1/settings/notifications", "application/yaml", strings.NewReader(string(b))); code != 200 {
				t.Fatalf("put the masked document back: %d %s", code, b)
			}
			if code, b := s.do(t, "PUT", "/api/v1/settings/notifications", "application/yaml", strings.NewReader("email_events: [lead.deleted]\n")); code != 400 {
				t.Fatalf("invalid settings: %d %s", code, b)
			}

			// A test email reaches mailpit with a Japanese subject.
			to := fmt.Sprintf("admin-%s@example.co.jp", backend)
			code, b = s.do(t, "POST", "/api/v1/notifications/test-email", "application/json", strings.NewReader(fmt.Sprintf(`{"to":"管理者 <%s>"}`, to)))
			if code != 200 {
				t.Fatalf("test email: %d %s", code, b)
			}
			var found *mailpittest.Message
			waitNotify(t, func() bool {
				for _, m := range mp.Messages(t) {
					if len(m.To) == 1 && m.To[0].Address == to {
						found = mp.Message(t, m.ID)
						return true
					}
				}
				return false
			})
			if !strings.HasPrefix(found.Subject, "[テスト/test] [leadflow] リードがHQLになりました") || found.To[0].Name != "管理者" ||
				!strings.Contains(found.Text, "http://leadflow.example.com/leads/") {
				t.Fatalf("test email: %q to %+v\n%s", found.Subject, found.To, found.Text)
			}

			if code, _ := s.do(t, "DELETE", fmt.Sprintf("/api/v1/webhooks/%d", ep.ID), "", nil); code != http.StatusNoContent {
				t.Fatalf("delete: %d", code)
			}
			if code, _ := s.do(t, "GET", fmt.Sprintf("/api/v1/webhooks/%d/deliveries", ep.ID), "", nil); code != http.StatusNotFound {
				t.Fatalf("deliveries of a deleted endpoint: %d", code)
			}
		})
	}
}

func waitNotify(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

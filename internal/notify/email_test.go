package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/notify/mailpittest"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func putSettings(t *testing.T, db *store.DB, doc string) {
	t.Helper()
	if _, err := notify.ParseSettings([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(context.Background(), func(tx *store.Tx) error {
		return tx.PutSetting(context.Background(), store.SettingNotifications, doc, "test")
	}); err != nil {
		t.Fatal(err)
	}
}

func addUser(t *testing.T, db *store.DB, name, display, email string) {
	t.Helper()
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.ExecContext(context.Background(), db.Dialect.Rebind(
			"INSERT INTO users (name, display_name, email, role, created_at, updated_at) VALUES (?, ?, ?, 'sales', 0, 0)"),
			name, display, email)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func deadPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func jobState(t *testing.T, db *store.DB, kind string) (id int64, state string, attempt int) {
	t.Helper()
	err := db.Read.QueryRowContext(context.Background(), db.Dialect.Rebind(
		"SELECT id, state, attempt FROM river_job WHERE kind = ? ORDER BY id DESC LIMIT 1"), kind).Scan(&id, &state, &attempt)
	if err != nil {
		return 0, "", 0
	}
	return id, state, attempt
}

// TestEmailAndChat sends a handoff by email through a real mailpit and to a
// Slack-compatible webhook; the SMTP server is down at first, and the email
// arrives on River's retry once it is reachable.
func TestEmailAndChat(t *testing.T) {
	mp := mailpittest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, q := setup(t, db)
		addUser(t, db, "sato", "佐藤 花子", "hanako.sato@example.co.jp")
		addUser(t, db, "nomail", "", "")

		var mu sync.Mutex
		var chats []map[string]any
		chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			mu.Lock()
			chats = append(chats, m)
			mu.Unlock()
			_, _ = w.Write([]byte("ok"))
		}))
		defer chat.Close()

		// A unique marker tells this backend's mail from the other's.
		marker := fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())
		settings := func(port int) string {
			return fmt.Sprintf(`smtp: {host: 127.0.0.1, port: %d, from: "リードフロー <leadflow@example.com>", tls: none}
email_events: [lead.stage_changed]
chat: {url: %q, events: [lead.stage_changed]}
base_url: https://leadflow.example.com
`, port, chat.URL+"/services/T/B/X")
		}
		putSettings(t, db, settings(deadPort(t)))

		ev := notify.SampleEvent(time.Now())
		ev.Data[notify.DataReason] = marker
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := n.Emit(ctx, tx, ev); err != nil {
				return err
			}
			noMail := ev
			noMail.Owner = "nomail" // no address: no email, no error
			return n.Emit(ctx, tx, noMail)
		}); err != nil {
			t.Fatal(err)
		}

		// SMTP down: the job fails and waits for its retry (after the
		// backoff; here it is made due at once, as River's JobRetry does).
		deadline := time.Now().Add(20 * time.Second)
		var jobID int64
		for {
			id, st, attempt := jobState(t, db, "notify_email")
			if st == "retryable" && attempt >= 1 {
				jobID = id
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("email job with SMTP down: state %q attempt %d", st, attempt)
			}
			time.Sleep(50 * time.Millisecond)
		}
		putSettings(t, db, settings(mp.SMTPPort))
		if _, err := q.Client().JobRetry(ctx, jobID); err != nil {
			t.Fatal(err)
		}

		var msg *mailpittest.Message
		var id string
		deadline = time.Now().Add(30 * time.Second)
		for msg == nil {
			for _, s := range mp.Messages(t) {
				if m := mp.Message(t, s.ID); strings.Contains(m.Text, marker) {
					msg, id = m, s.ID
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("the email did not arrive after SMTP came back")
			}
			time.Sleep(200 * time.Millisecond)
		}
		wantSubject := "[leadflow] リードがHQLになりました: 山田製作所株式会社 山田 太郎 / Lead moved to HQL"
		if msg.Subject != wantSubject {
			t.Errorf("subject %q, want %q", msg.Subject, wantSubject)
		}
		if len(msg.To) != 1 || msg.To[0].Name != "佐藤 花子" || msg.To[0].Address != "hanako.sato@example.co.jp" {
			t.Errorf("to: %+v", msg.To)
		}
		if msg.From.Name != "リードフロー" || msg.From.Address != "leadflow@example.com" {
			t.Errorf("from: %+v", msg.From)
		}
		for _, want := range []string{"リード: 山田製作所株式会社 山田 太郎（情報システム部 部長）", "ステージ: SQL → HQL", "スコア: 92",
			"担当者: sato", "SLA期限: ", "HQL: 1営業時間以内に初回接触", "流入元: google / spring-seminar", "BANT: 予算 ✓",
			"料金ページ /pricing", "リードを開く: https://leadflow.example.com/leads/1",
			"Stage: SQL → HQL", "Open the lead: https://leadflow.example.com/leads/1"} {
			if !strings.Contains(msg.Text, want) {
				t.Errorf("text lacks %q:\n%s", want, msg.Text)
			}
		}
		if strings.Index(msg.Text, "リードがHQLになりました") > strings.Index(msg.Text, "Lead moved to HQL") {
			t.Errorf("Japanese comes first:\n%s", msg.Text)
		}
		for _, want := range []string{`<a href="https://leadflow.example.com/leads/1"`, "山田製作所株式会社", "<th align=\"left\">スコア</th><td>92</td>"} {
			if !strings.Contains(msg.HTML, want) {
				t.Errorf("HTML lacks %q:\n%s", want, msg.HTML)
			}
		}
		raw := mp.Raw(t, id)
		head := raw[:strings.Index(raw, "\r\n\r\n")]
		unfolded := strings.ToLower(strings.ReplaceAll(head, "\r\n ", " "))
		for _, want := range []string{"subject: =?utf-8?b?", "to: =?utf-8?", "from: =?utf-8?", "mime-version: 1.0", "multipart/alternative"} {
			if !strings.Contains(unfolded, want) {
				t.Errorf("headers lack %q:\n%s", want, head)
			}
		}
		if !strings.Contains(raw, "Content-Type: text/plain; charset=UTF-8") || !strings.Contains(raw, "Content-Type: text/html; charset=UTF-8") ||
			!strings.Contains(raw, "Content-Transfer-Encoding: base64") {
			t.Errorf("parts are not UTF-8:\n%s", raw)
		}
		for _, line := range strings.Split(head, "\r\n") {
			for _, r := range line {
				if r > 127 {
					t.Fatalf("raw 8-bit header: %q", line)
				}
			}
		}

		// The chat message went out once, with a button to the lead.
		deadline = time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			got := len(chats)
			mu.Unlock()
			if got >= 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no chat message")
			}
			time.Sleep(50 * time.Millisecond)
		}
		mu.Lock()
		c := chats[0]
		mu.Unlock()
		if text, _ := c["text"].(string); !strings.Contains(text, "山田製作所株式会社") || !strings.Contains(text, "https://leadflow.example.com/leads/1") {
			t.Errorf("chat text: %v", c["text"])
		}
		if b, _ := json.Marshal(c["blocks"]); !strings.Contains(string(b), `"url":"https://leadflow.example.com/leads/1"`) {
			t.Errorf("chat blocks: %s", b)
		}

		// A test send goes out at once, and says why when it cannot.
		if err := n.SendTestEmail(ctx, "管理者 <admin@example.co.jp>"); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, s := range mp.Messages(t) {
			if strings.HasPrefix(s.Subject, "[テスト/test]") && len(s.To) == 1 && s.To[0].Address == "admin@example.co.jp" {
				found = true
			}
		}
		if !found {
			t.Error("test email not received")
		}
		putSettings(t, db, settings(deadPort(t)))
		if err := n.SendTestEmail(ctx, "admin@example.co.jp"); leadflow.ErrorCode(err) != leadflow.EUNAVAILABLE {
			t.Fatalf("test send with SMTP down: %v", err)
		}
		if err := n.SendTestEmail(ctx, "not an address"); leadflow.ErrorCode(err) != leadflow.EINVALID {
			t.Fatalf("test send to a bad address: %v", err)
		}
	})
}

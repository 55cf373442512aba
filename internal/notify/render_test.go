package notify_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/notify"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func TestChatMessage(t *testing.T) {
	t.Parallel()
	ev := notify.SampleEvent(time.Date(2025, 4, 1, 1, 0, 0, 0, time.UTC))
	ev.Data[notify.DataLeadURL] = "https://leadflow.example.com/leads/1"
	msg := notify.ChatMessage(ev)
	text, _ := msg["text"].(string)
	if !strings.Contains(text, "リードがHQLになりました") || !strings.Contains(text, "山田製作所株式会社 山田 太郎") ||
		!strings.Contains(text, "https://leadflow.example.com/leads/1") {
		t.Fatalf("fallback text: %q", text)
	}
	blocks := msg["blocks"].([]any)
	if len(blocks) != 2 {
		t.Fatalf("blocks: %+v", blocks)
	}
	section := blocks[0].(map[string]any)["text"].(map[string]any)["text"].(string)
	for _, want := range []string{"SQL → HQL", "BANTがすべて揃い", "Score: 92", "Owner: sato", "2025-04-01 11:00 (+09:00)"} {
		if !strings.Contains(section, want) {
			t.Errorf("section lacks %q:\n%s", want, section)
		}
	}
	button := blocks[1].(map[string]any)["elements"].([]any)[0].(map[string]any)
	if button["url"] != "https://leadflow.example.com/leads/1" || button["type"] != "button" {
		t.Fatalf("button: %+v", button)
	}

	// Without a link there is no button; mrkdwn is escaped.
	bare := notify.ChatMessage(notify.Event{Type: notify.SLABreached, LeadID: 7, Data: map[string]any{
		notify.DataLead: map[string]any{"company": "<A&B>"}}})
	if len(bare["blocks"].([]any)) != 1 || !strings.Contains(bare["text"].(string), "SLA期限を超過しました") {
		t.Fatalf("bare: %+v", bare)
	}
	if s := bare["blocks"].([]any)[0].(map[string]any)["text"].(map[string]any)["text"].(string); !strings.Contains(s, "&lt;A&amp;B&gt;") {
		t.Fatalf("not escaped: %s", s)
	}
}

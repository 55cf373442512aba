package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/leadflow/leadflow"
)

type chatWorker struct {
	river.WorkerDefaults[ChatArgs]
	n *Notifier
}

func (w *chatWorker) NextRetry(j *river.Job[ChatArgs]) time.Time {
	return nextRetry(time.Now(), j.Attempt)
}

func (w *chatWorker) Timeout(*river.Job[ChatArgs]) time.Duration { return jobTimeout }

func (w *chatWorker) Work(ctx context.Context, j *river.Job[ChatArgs]) error {
	set, err := w.n.Settings(ctx)
	if err != nil {
		return err
	}
	if set.Chat == nil || set.Chat.URL == "" {
		w.n.log.Warn("chat is no longer configured; message dropped", "event", j.Args.Event.Type)
		return nil
	}
	return w.n.postChat(ctx, set.Chat.URL, ChatMessage(j.Args.Event))
}

// ChatMessage is the Slack-compatible incoming-webhook body of an event:
// a plain-text fallback and blocks with the essentials and a button that
// opens the lead. Mattermost, Rocket.Chat and Google Chat's Slack
// compatibility read the same body.
func ChatMessage(ev Event) map[string]any {
	m := newMessage(ev)
	title := fmt.Sprintf("%s (%s): %s", m.TitleJA, m.TitleEN, m.Who())
	var lines []string
	lines = append(lines, "*"+esc(m.TitleJA)+"* ("+esc(m.TitleEN)+")")
	who := "*" + esc(m.Who()) + "*"
	if m.Title != "" {
		who += " · " + esc(m.Title)
	}
	lines = append(lines, who)
	if m.StageJA != "" {
		s := "ステージ Stage: " + esc(m.StageEN)
		if m.Reason != "" {
			s += " — " + esc(m.Reason)
		}
		lines = append(lines, s)
	}
	var facts []string
	if m.Score != "" {
		facts = append(facts, "スコア Score: "+esc(m.Score))
	}
	if m.Owner != "" {
		facts = append(facts, "担当 Owner: "+esc(m.Owner))
	}
	if len(facts) > 0 {
		lines = append(lines, strings.Join(facts, "  ·  "))
	}
	if m.SLADue != "" {
		lines = append(lines, "SLA期限 deadline: "+esc(m.SLADue))
	}
	if m.Touch != "" {
		lines = append(lines, "接触 Touch: "+esc(m.Touch))
	}
	if m.Deal != "" {
		lines = append(lines, "商談 Deal: "+esc(m.Deal))
	}
	blocks := []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": strings.Join(lines, "\n")}}}
	if m.Link != "" {
		title += " " + m.Link
		blocks = append(blocks, map[string]any{"type": "actions", "elements": []any{map[string]any{
			"type": "button", "text": map[string]any{"type": "plain_text", "text": "リードを開く / Open lead"},
			"url": m.Link, "style": "primary"}}})
	}
	return map[string]any{"text": title, "blocks": blocks}
}

// esc escapes Slack mrkdwn control characters.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func (n *Notifier) postChat(ctx context.Context, url string, msg map[string]any) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return leadflow.Internal(err, "chat message")
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return leadflow.Invalidf("chat.url", "%v", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := n.client.Do(req)
	if err != nil {
		// The URL is a credential: keep it out of job errors and logs.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("chat webhook: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("chat webhook: HTTP %d: %s", resp.StatusCode, truncate(string(b), 200))
	}
	return nil
}

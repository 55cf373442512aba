package notify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
)

type webhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	n *Notifier
}

func (w *webhookWorker) NextRetry(j *river.Job[WebhookArgs]) time.Time {
	return nextRetry(time.Now(), j.Attempt)
}

func (w *webhookWorker) Timeout(*river.Job[WebhookArgs]) time.Duration { return jobTimeout }

func (w *webhookWorker) Work(ctx context.Context, j *river.Job[WebhookArgs]) error {
	return w.n.Deliver(ctx, j.Args.DeliveryID, j.Attempt >= j.MaxAttempts)
}

// Deliver makes one attempt at a stored delivery and records it. It
// returns an error when the attempt failed and should be retried; last
// marks the final attempt, after which the delivery is failed. A 410 Gone
// disables the endpoint and is not retried.
func (n *Notifier) Deliver(ctx context.Context, deliveryID int64, last bool) error {
	d, err := n.db.WebhookDelivery(ctx, deliveryID)
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return nil // its endpoint was deleted
	} else if err != nil {
		return err
	}
	e, err := n.db.WebhookEndpoint(ctx, d.EndpointID)
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if !e.Active {
		return n.db.InTx(ctx, func(tx *store.Tx) error {
			return tx.SetWebhookDeliveryStatus(ctx, d.ID, store.DeliveryFailed, "endpoint disabled: "+e.DisabledReason)
		})
	}
	now := n.now()
	code, respBody, sendErr := n.post(ctx, e, d, now)
	a := store.WebhookAttempt{ResponseCode: code, ResponseBody: respBody, At: now}
	var retry error
	switch {
	case sendErr != nil:
		a.Error = sendErr.Error()
		retry = fmt.Errorf("webhook %s to endpoint %d: %w", d.MessageID, e.ID, sendErr)
	case code >= 200 && code < 300:
		a.Status = store.DeliveryDelivered
	case code == http.StatusGone:
		a.Status, a.Error = store.DeliveryGone, "410 Gone: endpoint disabled"
	default:
		a.Error = fmt.Sprintf("HTTP %d", code)
		retry = fmt.Errorf("webhook %s to endpoint %d: HTTP %d", d.MessageID, e.ID, code)
	}
	if retry != nil {
		a.Status = store.DeliveryPending
		if last {
			a.Status = store.DeliveryFailed
		}
	}
	err = n.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.RecordWebhookAttempt(ctx, d.ID, a); err != nil {
			return err
		}
		if a.Status == store.DeliveryGone {
			reason := fmt.Sprintf("the endpoint answered 410 Gone at %s (delivery %d)", now.UTC().Format(time.RFC3339), d.ID)
			return tx.DisableWebhookEndpoint(ctx, e.ID, reason)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if a.Status == store.DeliveryGone {
		n.log.Warn("webhook endpoint answered 410 Gone; disabled", "endpoint", e.ID, "url", e.URL)
	}
	return retry
}

// post sends the delivery once, signed for this attempt.
func (n *Notifier) post(ctx context.Context, e *store.WebhookEndpoint, d *store.WebhookDelivery, now time.Time) (int, string, error) {
	sig, err := Sign(e.Secret, d.MessageID, now, d.Payload)
	if err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "leadflow-webhooks/1")
	req.Header.Set(HeaderID, d.MessageID)
	req.Header.Set(HeaderTimestamp, fmt.Sprint(now.Unix()))
	req.Header.Set(HeaderSignature, sig)
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, truncate(string(b), maxBodyShown), nil
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

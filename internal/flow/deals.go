package flow

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
)

// DealRow is one parsed row of a deals CSV.
type DealRow struct {
	Line int
	Deal Deal
}

// ParseDeals reads a deals CSV (UTF-8, BOM allowed; columns external_id,
// email or lead_id, status, amount, currency, name, reason, at or
// close_date) and checks every row; rejected rows carry their line.
func ParseDeals(body []byte) ([]DealRow, []leadflow.Detail, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(body))
	header, err := r.Read()
	if err != nil {
		return nil, nil, leadflow.Invalidf("line 1", "no header row: %v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	if _, ok := col["external_id"]; !ok {
		return nil, nil, leadflow.Invalidf("line 1", "no external_id column (columns: external_id, email or lead_id, status, amount, currency, name, reason, at)")
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var out []DealRow
	var rejected []leadflow.Detail
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return nil, nil, leadflow.Invalidf(fmt.Sprintf("line %d", line), "malformed CSV: %v", err)
		}
		where := fmt.Sprintf("line %d", line)
		d := Deal{Email: get(rec, "email"), Deal: store.Deal{ExternalID: get(rec, "external_id"), Status: strings.ToLower(get(rec, "status")),
			Currency: get(rec, "currency"), Name: get(rec, "name"), Reason: get(rec, "reason")}}
		bad := func(msg string) { rejected = append(rejected, leadflow.Detail{Where: where, Message: msg}) }
		if v := get(rec, "lead_id"); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				bad(fmt.Sprintf("lead_id %q is not a lead id", v))
				continue
			}
			d.LeadID = id
		}
		if d.LeadID == 0 && d.Email == "" {
			bad("give email or lead_id")
			continue
		}
		if d.ExternalID == "" {
			bad("external_id is empty")
			continue
		}
		switch d.Status {
		case store.DealOpen, store.DealWon, store.DealLost:
		default:
			bad(fmt.Sprintf("status %q: use open, won or lost", d.Status))
			continue
		}
		if v := strings.ReplaceAll(get(rec, "amount"), ",", ""); v != "" {
			a, err := strconv.ParseFloat(v, 64)
			if err != nil || a < 0 {
				bad(fmt.Sprintf("amount %q is not a non-negative number", v))
				continue
			}
			d.Amount = a
		}
		if v := firstOf(get(rec, "at"), get(rec, "close_date")); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				if t, err = time.Parse("2006-01-02", v); err != nil {
					bad(fmt.Sprintf("at %q is not a date", v))
					continue
				}
			}
			d.At = t.UTC()
		}
		out = append(out, DealRow{Line: line, Deal: d})
	}
	return out, rejected, nil
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// ImportDeals applies parsed deal rows, each in its own transaction (one
// transaction per incoming deal update, as for events). A row whose lead
// does not exist is reported with its line; other rows still apply.
func (f *Flow) ImportDeals(ctx context.Context, rows []DealRow, actor Actor) (int, []leadflow.Detail, error) {
	applied := 0
	rejected := []leadflow.Detail{}
	for _, r := range rows {
		if _, _, err := f.UpdateDeal(ctx, r.Deal, actor); err != nil {
			var e *leadflow.Error
			if errors.As(err, &e) && e.Code != leadflow.EINTERNAL {
				rejected = append(rejected, leadflow.Detail{Where: fmt.Sprintf("line %d", r.Line), Message: leadflow.ErrorMessage(err)})
				continue
			}
			return applied, rejected, err
		}
		applied++
	}
	return applied, rejected, nil
}

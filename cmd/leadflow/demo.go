package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/leadflow/leadflow/internal/gen"
	"github.com/leadflow/leadflow/internal/segment"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/web"
)

type demoCredentials struct {
	writeKey, apiKey string
	// salesUser and salesPassword log in to the web UI as an inside sales rep.
	salesUser, salesPassword string
}

// demoRouting sends hot leads to field sales in turn and the rest to the
// least loaded inside sales rep.
const demoRouting = `rules:
  - id: hot-to-field-sales
    when: lead.stage in ["sql", "hql"]
    assign: {team: field-sales, strategy: round_robin}
  - id: mql-to-inside-sales
    when: "true"
    assign: {team: inside-sales, strategy: least_loaded}
fallback: {queue: unassigned}
`

// seedTeam creates the demo sales organisation and its routing rules.
func seedTeam(ctx context.Context, a *app, creds *demoCredentials) error {
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		for _, t := range []store.Team{{Name: "inside-sales"}, {Name: "field-sales"}} {
			if err := tx.CreateTeam(ctx, &t, "system:demo"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	users := []store.User{
		{Name: "yamamoto", DisplayName: "山本 部長", Email: "yamamoto@demo.example", Role: store.RoleManager, Team: "inside-sales"},
		{Name: "sato", DisplayName: "佐藤 美咲", Email: "sato@demo.example", Role: store.RoleSales, Team: "inside-sales", MaxOpenLeads: 400},
		{Name: "suzuki", DisplayName: "鈴木 健太", Email: "suzuki@demo.example", Role: store.RoleSales, Team: "inside-sales", MaxOpenLeads: 400},
		{Name: "takahashi", DisplayName: "高橋 直人", Email: "takahashi@demo.example", Role: store.RoleSales, Team: "field-sales"},
		{Name: "tanaka", DisplayName: "田中 優子", Email: "tanaka@demo.example", Role: store.RoleSales, Team: "field-sales"},
		{Name: "ito", DisplayName: "伊藤 翔", Email: "ito@demo.example", Role: store.RoleMarketing},
	}
	for i := range users {
		password := auth.NewPassword()
		if err := web.CreateUser(ctx, a.db, &users[i], password, "system:demo"); err != nil {
			return err
		}
		if users[i].Name == "sato" {
			creds.salesUser, creds.salesPassword = "sato", password
		}
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		manager := "yamamoto"
		for _, team := range []string{"inside-sales", "field-sales"} {
			if _, err := tx.UpdateTeam(ctx, team, store.TeamUpdate{Manager: &manager}, "system:demo"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, _, err = a.flow.SetRouting(ctx, "demo-routing.yaml", []byte(demoRouting), "system:demo")
	return err
}

// seedDemo creates demo credentials and, on a database without leads,
// loads the demo company's history through the normal ingestion path.
func seedDemo(ctx context.Context, a *app, progress io.Writer) (*demoCredentials, error) {
	creds := &demoCredentials{}
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if _, creds.writeKey, err = tx.CreateSource(ctx, "demo web site"); err != nil {
			return err
		}
		_, creds.apiKey, err = tx.CreateAPIKey(ctx, "demo")
		return err
	})
	if err != nil {
		return nil, err
	}
	n, err := a.db.CountLeads(ctx)
	if err != nil || n > 0 {
		return creds, err
	}
	if err := seedTeam(ctx, a, creds); err != nil {
		return nil, err
	}
	cfg := gen.DemoConfig(time.Now().UTC().Truncate(time.Hour))
	fmt.Fprintf(progress, "loading the demo company: %d leads, %d events…\n", cfg.Leads, cfg.Events)
	start := time.Now()
	loaded, err := loadHistory(ctx, a, creds.writeKey, cfg, true, nil)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "demo loaded: %d leads in %s\n", loaded, time.Since(start).Round(time.Millisecond))
	return creds, nil
}

// loadHistory sends a generated history through Flow.Ingest (identify +
// events per lead), batching several leads per transaction. With outcomes
// set, leads that really became opportunities or customers are moved there
// as sales would have done.
func loadHistory(ctx context.Context, a *app, writeKey string, cfg gen.Config, outcomes bool, tick func(int)) (int, error) {
	var batch []segment.Message
	// move is what sales and the CRM later did with a lead: BANT learned
	// when qualifying, then the deal (open, then won or lost) from the CRM.
	type move struct {
		email string
		bant  *leadflow.BANT
		deals []store.Deal
	}
	var moves []move
	count := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := a.flow.Ingest(ctx, writeKey, batch); err != nil {
			return err
		}
		batch = batch[:0]
		return nil
	}
	err := gen.Generate(cfg, func(rec *gen.Record) error {
		batch = append(batch, identifyOf(&rec.Lead))
		for i := range rec.Events {
			batch = append(batch, messageOf(&rec.Events[i]))
		}
		count++
		if outcomes {
			o := rec.Outcome
			mv := move{email: rec.Lead.Email}
			if o.SQLAt != nil {
				b := o.BANT
				if b.Timeline != nil {
					t := *b.Timeline
					b.Timeline = &t
				}
				mv.bant = &b
			}
			if o.OpportunityAt != nil {
				id := fmt.Sprintf("DEMO-%d", rec.Lead.ID)
				mv.deals = append(mv.deals, store.Deal{ExternalID: id, Status: store.DealOpen, At: *o.OpportunityAt,
					Name: rec.Lead.Company})
				switch {
				case o.WonAt != nil:
					mv.deals = append(mv.deals, store.Deal{ExternalID: id, Status: store.DealWon, At: *o.WonAt,
						Amount: o.Amount, Name: rec.Lead.Company})
				case o.LostAt != nil:
					mv.deals = append(mv.deals, store.Deal{ExternalID: id, Status: store.DealLost, At: *o.LostAt,
						Reason: "competitor chosen", Name: rec.Lead.Company})
				}
			}
			if mv.bant != nil || len(mv.deals) > 0 {
				moves = append(moves, mv)
			}
		}
		if tick != nil {
			tick(count)
		}
		if len(batch) >= 1000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return count, err
	}
	for _, mv := range moves {
		l, err := a.db.FindLeadByEmail(ctx, mv.email)
		if err != nil {
			return count, err
		}
		if mv.bant != nil {
			if _, err := a.flow.UpdateLead(ctx, l.ID, leadflow.LeadPatch{BANT: mv.bant}, "system:demo"); err != nil {
				return count, err
			}
		}
		for _, d := range mv.deals {
			d.LeadID = l.ID
			if _, _, err := a.flow.UpdateDeal(ctx, flow.Deal{Deal: d}, flow.Actor("system:demo")); err != nil {
				return count, err
			}
		}
	}
	return count, nil
}

func identifyOf(l *leadflow.Lead) segment.Message {
	m := segment.Message{Type: leadflow.EventIdentify, MessageID: fmt.Sprintf("identify-%d", l.ID),
		Timestamp: l.CreatedAt, ReceivedAt: l.CreatedAt,
		Traits: map[string]any{"email": l.Email, "name": l.Name, "company": l.Company, "title": l.Title,
			"industry": l.Industry, "employees": float64(l.Employees), "country": l.Country, "region": l.Region}}
	if len(l.ExternalIDs) > 0 {
		m.UserID = l.ExternalIDs[0]
	}
	if len(l.AnonymousIDs) > 0 {
		m.AnonymousID = l.AnonymousIDs[0]
	}
	if !l.FirstTouch.IsZero() {
		m.Context = map[string]any{"campaign": map[string]any{"source": l.FirstTouch.Source,
			"medium": l.FirstTouch.Medium, "name": l.FirstTouch.Campaign}}
	}
	return m
}

func messageOf(e *leadflow.Event) segment.Message {
	m := segment.Message{Type: e.Type, MessageID: e.MessageID, UserID: e.UserID, AnonymousID: e.AnonymousID,
		Properties: e.Properties, Context: e.Context, Timestamp: e.Timestamp, ReceivedAt: e.Timestamp}
	if e.Type == leadflow.EventTrack {
		m.Event = e.Name
	} else {
		m.Name = e.Name
	}
	return m
}

package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// TestSalesSeesOwnAndTeamLeads: a salesperson sees and works its own
// leads and its team's; another rep's lead is not in the list, and by URL
// it is the page of a lead that does not exist (404), for reading and for
// every action, and nothing changes. A manager sees it.
func TestSalesSeesOwnAndTeamLeads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		team := "east"
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateTeam(ctx, &store.Team{Name: team}, "test"); err != nil {
				return err
			}
			for _, u := range []store.User{{Name: "mate", Role: "sales", Team: team}, {Name: "far", Role: "sales"}} {
				if err := tx.CreateUser(ctx, &u, "test"); err != nil {
					return err
				}
			}
			_, err := tx.UpdateUser(ctx, "sales1", store.UserUpdate{Team: &team}, "test")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		leads := map[string]int64{}
		for _, who := range []string{"mate", "far"} {
			email := who + "-lead@example.co.jp"
			l, err := b.flow.CreateLead(ctx, leadflow.LeadPatch{Email: &email, Company: ptr("見える化工業 " + who)}, "test")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.flow.Reassign(ctx, l.ID, who, "test"); err != nil {
				t.Fatal(err)
			}
			leads[who] = l.ID
		}
		sales, manager := b.login(t, "sales1"), b.login(t, "manager1")

		r := b.get(t, sales, "/leads?q="+url.QueryEscape("見える化工業"))
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "mate-lead@example.co.jp") || strings.Contains(r.Body, "far-lead@example.co.jp") {
			t.Fatalf("sales list: %d, mate's lead shown %v, far's lead shown %v", r.StatusCode,
				strings.Contains(r.Body, "mate-lead@"), strings.Contains(r.Body, "far-lead@"))
		}
		if r := b.get(t, manager, "/leads?q="+url.QueryEscape("見える化工業")); !strings.Contains(r.Body, "far-lead@example.co.jp") {
			t.Fatal("manager list misses far's lead")
		}
		for _, path := range []string{"/leads/" + itoa(int(b.lead)), "/leads/" + itoa(int(leads["mate"]))} {
			if r := b.get(t, sales, path); r.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", path, r.StatusCode)
			}
		}
		far := "/leads/" + itoa(int(leads["far"]))
		missing := b.get(t, sales, "/leads/987654")
		r = b.get(t, sales, far)
		if r.StatusCode != http.StatusNotFound || missing.StatusCode != http.StatusNotFound {
			t.Fatalf("another rep's lead by URL: %d (missing: %d)", r.StatusCode, missing.StatusCode)
		}
		before, _ := db.FindLead(ctx, leads["far"])
		for _, act := range []string{"accept", "reject", "qualify", "disqualify", "recycle", "touch", "bant"} {
			r := b.post(t, sales, far+"/"+act, url.Values{"note": {"x"}, "reason": {"no_budget"}, "kind": {"call"}, "outcome": {"connected"}, "budget": {"1"}})
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("%s on another rep's lead: %d", act, r.StatusCode)
			}
		}
		after, _ := db.FindLead(ctx, leads["far"])
		if after.UpdatedAt != before.UpdatedAt || after.Stage != before.Stage {
			t.Errorf("another rep's lead changed: %+v -> %+v", before, after)
		}
		if ts, _ := db.TouchesOfLead(ctx, leads["far"]); len(ts) != 0 {
			t.Errorf("touches on another rep's lead: %+v", ts)
		}
		if r := b.post(t, sales, "/leads/"+itoa(int(leads["mate"]))+"/touch", url.Values{"kind": {"call"}, "outcome": {"connected"}}); r.StatusCode != http.StatusSeeOther {
			t.Errorf("touch on the team's lead: %d", r.StatusCode)
		}
		if r := b.get(t, manager, far); r.StatusCode != http.StatusOK {
			t.Errorf("manager on far's lead: %d", r.StatusCode)
		}
	})
}

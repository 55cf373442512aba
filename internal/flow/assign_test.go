package flow

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

const testRules = `rules:
  - id: enterprise
    when: lead.employees >= 1000
    assign: {user: sato}
  - id: manufacturing
    when: lead.industry == "manufacturing"
    assign: {team: field-mfg, strategy: round_robin}
  - id: everyone-else
    when: lead.stage != "lead"
    assign: {team: inside-sales, strategy: least_loaded}
fallback: {queue: triage}
`

type assignBundle struct {
	db   *store.DB
	flow *Flow
	seq  int
}

func setupAssign(t *testing.T, db *store.DB) *assignBundle {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	q, err := jobs.New(db, nil, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b := &assignBundle{db: db, flow: New(db, q, nil)}
	if err := b.flow.EnsureModel(ctx); err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		for _, tm := range []string{"field-ent", "field-mfg", "inside-sales"} {
			if err := tx.CreateTeam(ctx, &store.Team{Name: tm}, "test"); err != nil {
				return err
			}
		}
		for _, u := range []store.User{
			{Name: "sato", Team: "field-ent", MaxOpenLeads: 1},
			{Name: "ueda", Team: "field-mfg"}, {Name: "abe", Team: "field-mfg"}, {Name: "ito", Team: "field-mfg"},
			{Name: "kato", Team: "inside-sales"}, {Name: "mori", Team: "inside-sales"},
		} {
			u.Role = store.RoleSales
			if err := tx.CreateUser(ctx, &u, "test"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lead creates a lead in the given stage (bypassing scoring).
func (b *assignBundle) lead(t *testing.T, l leadflow.Lead) int64 {
	t.Helper()
	b.seq++
	l.Email = fmt.Sprintf("lead%d@example.jp", b.seq)
	if l.Stage == "" {
		l.Stage = leadflow.StageMQL
	}
	if err := b.db.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateLead(context.Background(), &l) }); err != nil {
		t.Fatal(err)
	}
	return l.ID
}

// route runs unit.route for each lead, all in one transaction.
func (b *assignBundle) route(t *testing.T, ids ...int64) []bool {
	t.Helper()
	ctx := context.Background()
	var changed []bool
	err := b.db.InTx(ctx, func(tx *store.Tx) error {
		changed = changed[:0]
		u, err := b.flow.newUnit(ctx, tx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			st, err := u.load(ctx, id)
			if err != nil {
				return err
			}
			c, err := u.route(ctx, st, "system")
			if err != nil {
				return err
			}
			changed = append(changed, c)
		}
		return u.flush(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	return changed
}

func (b *assignBundle) owners(t *testing.T, ids ...int64) string {
	t.Helper()
	var out []string
	for _, id := range ids {
		l, err := b.db.FindLead(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l.Owner+"/"+l.Team)
	}
	return strings.Join(out, " ")
}

func (b *assignBundle) setRules(t *testing.T, src string) {
	t.Helper()
	if _, _, err := b.flow.SetRouting(context.Background(), "routing.yaml", []byte(src), "api:test"); err != nil {
		t.Fatal(err)
	}
}

func TestRouteDefaultQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setupAssign(t, db)
		ctx := context.Background()
		id := b.lead(t, leadflow.Lead{Employees: 5000})
		if got := b.route(t, id); !got[0] {
			t.Fatal("first routing to the queue is a change")
		}
		if got := b.route(t, id); got[0] {
			t.Fatal("routing again to the same queue is no change")
		}
		as, err := db.AssignmentsOfLead(ctx, id)
		if err != nil || len(as) != 1 || as[0].Queue != routing.DefaultQueue || as[0].Owner != "" ||
			as[0].Rule != routing.RuleFallback || as[0].Actor != "system" {
			t.Fatalf("assignments: %v %+v", err, as)
		}
		rules, setting, err := b.flow.Routing(ctx)
		if err != nil || setting != nil || rules.Fallback != routing.DefaultQueue {
			t.Fatalf("default routing: %v %+v %+v", err, setting, rules)
		}
	})
}

func TestRouteRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setupAssign(t, db)
		ctx := context.Background()
		b.setRules(t, testRules)

		// A specific user, until at capacity; then the next rule.
		big1, big2 := b.lead(t, leadflow.Lead{Employees: 5000}), b.lead(t, leadflow.Lead{Employees: 5000, Industry: "manufacturing"})
		b.route(t, big1, big2)
		if got := b.owners(t, big1, big2); got != "sato/field-ent abe/field-mfg" {
			t.Fatalf("enterprise: %s", got)
		}

		// Round robin continues from the stored position in a new
		// transaction and in a new Flow (a restart).
		var mfg []int64
		for range 3 {
			mfg = append(mfg, b.lead(t, leadflow.Lead{Industry: "manufacturing"}))
		}
		b.route(t, mfg[0])
		b.flow = New(db, b.flow.queue, nil)
		b.route(t, mfg[1:]...)
		if got := b.owners(t, mfg...); got != "ito/field-mfg ueda/field-mfg abe/field-mfg" {
			t.Fatalf("round robin: %s", got)
		}
		// Members change: ito leaves for another team, a new member joins.
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.UpdateUser(ctx, "ito", store.UserUpdate{Team: valPtr("inside-sales")}, "test"); err != nil {
				return err
			}
			return tx.CreateUser(ctx, &store.User{Name: "baba", Role: store.RoleSales, Team: "field-mfg"}, "test")
		})
		if err != nil {
			t.Fatal(err)
		}
		more := []int64{b.lead(t, leadflow.Lead{Industry: "manufacturing"}), b.lead(t, leadflow.Lead{Industry: "manufacturing"})}
		b.route(t, more...)
		if got := b.owners(t, more...); got != "baba/field-mfg ueda/field-mfg" {
			t.Fatalf("round robin after member change: %s", got)
		}
		if tm, _ := db.FindTeam(ctx, "field-mfg"); tm.RoundRobinLast != "ueda" {
			t.Fatalf("stored position: %+v", tm)
		}

		// Least loaded within one transaction counts the leads it has just
		// assigned (ito, now in inside-sales too, brings one open lead).
		var others []int64
		for range 4 {
			others = append(others, b.lead(t, leadflow.Lead{Industry: "retail"}))
		}
		b.route(t, others...)
		if got := b.owners(t, others...); got != "kato/inside-sales mori/inside-sales ito/inside-sales kato/inside-sales" {
			t.Fatalf("least loaded: %s", got)
		}

		// Nothing matches (stage lead) and no owner: the fallback queue.
		cold := b.lead(t, leadflow.Lead{Stage: leadflow.StageLead})
		b.route(t, cold)
		as, err := db.AssignmentsOfLead(ctx, cold)
		if err != nil || len(as) != 1 || as[0].Queue != "triage" {
			t.Fatalf("fallback: %v %+v", err, as)
		}

		// Routing again changes nothing: owners keep their leads while they
		// are active members of the team the rule picks.
		if got := b.route(t, append(others, mfg[1:]...)...); strings.Contains(fmt.Sprint(got), "true") {
			t.Fatalf("re-routing changed owners: %v", got)
		}

		// A deactivated owner's lead moves on; the record says from whom.
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.UpdateUser(ctx, "kato", store.UserUpdate{Active: valPtr(false)}, "test")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		b.route(t, others[0])
		as, err = db.AssignmentsOfLead(ctx, others[0])
		if err != nil || len(as) != 2 || as[1].PreviousOwner != "kato" || as[1].Owner != "mori" || as[1].Rule != "everyone-else" {
			t.Fatalf("reassigned from inactive: %v %+v", err, as)
		}
	})
}

func TestReassign(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setupAssign(t, db)
		ctx := context.Background()
		id := b.lead(t, leadflow.Lead{})
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.UpdateUser(ctx, "mori", store.UserUpdate{Active: valPtr(false)}, "test")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ owner, want string }{
			{"ghost", "unknown user"}, {"mori", "inactive"}, {"", "owner is required"},
		} {
			_, err := b.flow.Reassign(ctx, id, tc.owner, "api:test")
			if leadflow.ErrorCode(err) != leadflow.EINVALID || !strings.Contains(leadflow.ErrorMessage(err), tc.want) {
				t.Errorf("reassign to %q: %v", tc.owner, err)
			}
		}
		if _, err := b.flow.Reassign(ctx, 999999, "kato", "api:test"); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			t.Errorf("missing lead: %v", err)
		}
		for _, owner := range []string{"kato", "abe", "abe"} {
			l, err := b.flow.Reassign(ctx, id, owner, "api:test")
			if err != nil || l.Owner != owner {
				t.Fatalf("reassign to %s: %v %+v", owner, err, l)
			}
		}
		as, err := db.AssignmentsOfLead(ctx, id)
		if err != nil || len(as) != 2 {
			t.Fatalf("assignments: %v %+v", err, as)
		}
		if a := as[1]; a.Owner != "abe" || a.Team != "field-mfg" || a.PreviousOwner != "kato" || a.Rule != routing.RuleManual || a.Actor != "api:test" {
			t.Fatalf("manual assignment: %+v", a)
		}
		if l, _ := db.FindLead(ctx, id); l.Owner != "abe" || l.Team != "field-mfg" {
			t.Fatalf("stored lead: %+v", l)
		}
	})
}

func TestSetRoutingInvalid(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setupAssign(t, db)
		ctx := context.Background()
		b.setRules(t, testRules)
		_, _, err := b.flow.SetRouting(ctx, "bad.yaml", []byte("rules:\n  - id: a\n    when: lead.nope\n    assign: {user: sato}\n"), "api:test")
		var e *leadflow.Error
		if leadflow.ErrorCode(err) != leadflow.EINVALID || !asLeadflowError(err, &e) || len(e.Details) == 0 || e.Details[0].Where != "bad.yaml:3:15" {
			t.Fatalf("invalid rules: %v %+v", err, e)
		}
		rules, s, err := b.flow.Routing(ctx)
		if err != nil || s == nil || s.Value != testRules || s.UpdatedBy != "api:test" || len(rules.Rules()) != 3 {
			t.Fatalf("rules in force after a refused update: %v %+v", err, s)
		}
	})
}

// TestRouteConcurrent routes leads of one round-robin team from many
// transactions at once: the team lock makes them take turns, so the
// members get equal shares.
func TestRouteConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setupAssign(t, db)
		ctx := context.Background()
		b.setRules(t, testRules)
		var ids []int64
		for range 12 {
			ids = append(ids, b.lead(t, leadflow.Lead{Industry: "manufacturing"}))
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(ids))
		for _, id := range ids {
			wg.Go(func() {
				if _, _, err := b.flow.Route(ctx, id, "system"); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		counts, err := db.OpenLeadCounts(ctx, "field-mfg")
		if err != nil || counts["abe"] != 4 || counts["ito"] != 4 || counts["ueda"] != 4 {
			t.Fatalf("shares: %v %v", err, counts)
		}
	})
}

func asLeadflowError(err error, e **leadflow.Error) bool {
	x, ok := err.(*leadflow.Error)
	*e = x
	return ok
}

func valPtr[T any](v T) *T { return &v }

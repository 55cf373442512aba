package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// slaBundle is a database with a settable clock and one lead.
type slaBundle struct {
	db   *store.DB
	mu   sync.Mutex
	now  time.Time
	lead int64
}

func setupSLA(t *testing.T, db *store.DB) *slaBundle {
	t.Helper()
	b := &slaBundle{db: db, now: time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC)}
	db.Now = func() time.Time { b.mu.Lock(); defer b.mu.Unlock(); return b.now }
	b.tx(t, func(tx *store.Tx) error {
		l := &leadflow.Lead{Email: "sla@example.co.jp", Owner: "sato", Stage: leadflow.StageMQL}
		err := tx.CreateLead(context.Background(), l)
		b.lead = l.ID
		return err
	})
	return b
}

func (b *slaBundle) set(t time.Time) { b.mu.Lock(); b.now = t; b.mu.Unlock() }

func (b *slaBundle) tx(t *testing.T, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := b.db.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func (b *slaBundle) start(t *testing.T, stage leadflow.Stage, policy, owner string, due time.Duration) *store.SLAClock {
	t.Helper()
	c := &store.SLAClock{LeadID: b.lead, Stage: stage, Policy: policy, Owner: owner}
	b.tx(t, func(tx *store.Tx) error {
		c.StartedAt, c.WarnAt, c.DueAt = tx.Now, tx.Now.Add(due*3/4), tx.Now.Add(due)
		return tx.StartClock(context.Background(), c)
	})
	return c
}

func (b *slaBundle) clock(t *testing.T, id int64) *store.SLAClock {
	t.Helper()
	c, err := b.db.ClockByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSLAClockLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupSLA(t, db)
		t0 := b.now
		c := b.start(t, leadflow.StageMQL, "mql-accept", "sato", time.Hour)
		if c.ID == 0 || c.Status != store.ClockRunning {
			t.Fatalf("started: %+v", c)
		}
		got := b.clock(t, c.ID)
		if !got.StartedAt.Equal(t0) || !got.DueAt.Equal(t0.Add(time.Hour)) || !got.WarnAt.Equal(t0.Add(45*time.Minute)) ||
			got.Status != store.ClockRunning || got.StoppedAt != nil || got.Owner != "sato" || got.Stage != leadflow.StageMQL {
			t.Fatalf("round trip: %+v", got)
		}

		// Warned once; a second run of the timer does nothing.
		b.set(t0.Add(45 * time.Minute))
		for i, want := range []bool{true, false} {
			b.tx(t, func(tx *store.Tx) error {
				ok, err := tx.MarkClockWarned(ctx, c.ID)
				if ok != want {
					t.Errorf("warn %d: %v, want %v", i, ok, want)
				}
				return err
			})
		}
		// Met on time.
		b.set(t0.Add(50 * time.Minute))
		b.tx(t, func(tx *store.Tx) error {
			ok, err := tx.StopClock(ctx, c.ID, "user:sato")
			if !ok {
				t.Error("stop: not stopped")
			}
			return err
		})
		got = b.clock(t, c.ID)
		if got.Status != store.ClockMet || got.StoppedAt == nil || !got.StoppedAt.Equal(t0.Add(50*time.Minute)) ||
			got.StoppedBy != "user:sato" || got.WarnedAt == nil || got.BreachedAt != nil {
			t.Fatalf("met: %+v", got)
		}
		// A stopped clock neither breaches nor stops again.
		b.tx(t, func(tx *store.Tx) error {
			if ok, err := tx.MarkClockBreached(ctx, c.ID); ok || err != nil {
				t.Errorf("breach of a met clock: %v %v", ok, err)
			}
			if ok, err := tx.StopClock(ctx, c.ID, "again"); ok || err != nil {
				t.Errorf("second stop: %v %v", ok, err)
			}
			return nil
		})

		// Breached once by the timer, then touched late: the status stays
		// breached and the stop time is kept.
		b.set(t0.Add(2 * time.Hour))
		c2 := b.start(t, leadflow.StageMQL, "mql-first-touch", "sato", time.Hour)
		b.set(t0.Add(3 * time.Hour))
		b.tx(t, func(tx *store.Tx) error {
			if ok, err := tx.MarkClockWarned(ctx, c2.ID); ok || err != nil {
				t.Errorf("warning past due: %v %v", ok, err)
			}
			for i, want := range []bool{true, false} {
				ok, err := tx.MarkClockBreached(ctx, c2.ID)
				if err != nil || ok != want {
					t.Errorf("breach %d: %v %v", i, ok, err)
				}
			}
			return nil
		})
		b.set(t0.Add(4 * time.Hour))
		b.tx(t, func(tx *store.Tx) error {
			open, err := tx.OpenClocksOfLead(ctx, b.lead)
			if err != nil || len(open) != 1 || open[0].ID != c2.ID {
				t.Errorf("open clocks: %+v %v", open, err)
			}
			_, err = tx.StopClock(ctx, c2.ID, "user:sato")
			return err
		})
		got = b.clock(t, c2.ID)
		if got.Status != store.ClockBreached || !got.BreachedAt.Equal(t0.Add(3*time.Hour)) || !got.StoppedAt.Equal(t0.Add(4*time.Hour)) {
			t.Fatalf("late touch on breached clock: %+v", got)
		}

		// Stopped after the deadline before the breach timer ran (the
		// server was down): breached at the deadline.
		c3 := b.start(t, leadflow.StageMQL, "late", "sato", time.Hour)
		b.set(t0.Add(6 * time.Hour))
		b.tx(t, func(tx *store.Tx) error { _, err := tx.StopClock(ctx, c3.ID, "user:sato"); return err })
		got = b.clock(t, c3.ID)
		if got.Status != store.ClockBreached || !got.BreachedAt.Equal(got.DueAt) {
			t.Fatalf("late stop: %+v", got)
		}
		b.tx(t, func(tx *store.Tx) error {
			if ok, err := tx.MarkClockBreached(ctx, c3.ID); ok || err != nil {
				t.Errorf("timer after late stop: %v %v", ok, err)
			}
			return nil
		})
	})
}

func TestSLACloseAndQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupSLA(t, db)
		t0 := b.now
		mql := b.start(t, leadflow.StageMQL, "mql-accept", "sato", 2*time.Hour)
		overdue := b.start(t, leadflow.StageMQL, "mql-first-touch", "sato", 30*time.Minute)
		sql := b.start(t, leadflow.StageSQL, "sql-first-touch", "suzuki", time.Hour)

		// The queue: running, soonest first, by owner, due before.
		all, err := db.FindClocks(ctx, store.ClockFilter{Status: []string{store.ClockRunning}})
		if err != nil || len(all) != 3 || all[0].ID != overdue.ID || all[1].ID != sql.ID || all[2].ID != mql.ID {
			t.Fatalf("queue: %+v %v", all, err)
		}
		mine, err := db.FindClocks(ctx, store.ClockFilter{Owner: "sato", DueBefore: t0.Add(time.Hour)})
		if err != nil || len(mine) != 1 || mine[0].ID != overdue.ID {
			t.Fatalf("sato due within the hour: %+v %v", mine, err)
		}
		if _, err := db.FindClocks(ctx, store.ClockFilter{Status: []string{"late"}}); leadflow.ErrorCode(err) != leadflow.EINVALID {
			t.Fatalf("bad status: %v", err)
		}

		// The lead moves to SQL at t0+1h: the MQL clocks close, the one
		// already past due as breached.
		b.set(t0.Add(time.Hour))
		b.tx(t, func(tx *store.Tx) error {
			n, err := tx.CloseClocks(ctx, b.lead, leadflow.StageSQL, "stage:sql")
			if n != 2 {
				t.Errorf("closed %d, want 2", n)
			}
			return err
		})
		if got := b.clock(t, mql.ID); got.Status != store.ClockCanceled || got.StoppedBy != "stage:sql" {
			t.Errorf("mql clock: %+v", got)
		}
		if got := b.clock(t, overdue.ID); got.Status != store.ClockBreached || !got.BreachedAt.Equal(got.DueAt) {
			t.Errorf("overdue clock: %+v", got)
		}
		if got := b.clock(t, sql.ID); got.Status != store.ClockRunning {
			t.Errorf("sql clock: %+v", got)
		}
		b.tx(t, func(tx *store.Tx) error { return tx.ReownClocks(ctx, b.lead, "tanaka") })
		if got := b.clock(t, sql.ID); got.Owner != "tanaka" {
			t.Errorf("reowned: %+v", got)
		}
		if got := b.clock(t, mql.ID); got.Owner != "sato" {
			t.Errorf("closed clocks keep their owner: %+v", got)
		}
		clocks, err := db.ClocksOfLead(ctx, b.lead)
		if err != nil || len(clocks) != 3 || clocks[0].ID != mql.ID {
			t.Fatalf("clocks of lead: %+v %v", clocks, err)
		}

		// Compliance over the day.
		b.tx(t, func(tx *store.Tx) error { _, err := tx.StopClock(ctx, sql.ID, "user:tanaka"); return err })
		rows, err := db.SLACompliance(ctx, t0, t0.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]store.ComplianceRow{
			"mql-accept/sato":        {Policy: "mql-accept", Owner: "sato", Canceled: 1},
			"mql-first-touch/sato":   {Policy: "mql-first-touch", Owner: "sato", Breached: 1},
			"sql-first-touch/tanaka": {Policy: "sql-first-touch", Owner: "tanaka", Met: 1},
		}
		if len(rows) != len(want) {
			t.Fatalf("compliance rows: %+v", rows)
		}
		for _, r := range rows {
			if w := want[r.Policy+"/"+r.Owner]; r != w {
				t.Errorf("compliance %s/%s = %+v, want %+v", r.Policy, r.Owner, r, w)
			}
		}
		if c := rows[2].Compliance(); c == nil || *c != 1 {
			t.Errorf("compliance of met = %v", c)
		}
		if c := rows[0].Compliance(); c != nil {
			t.Errorf("compliance with nothing decided = %v", *c)
		}
		if rows, err := db.SLACompliance(ctx, t0.Add(-48*time.Hour), t0.Add(-24*time.Hour)); err != nil || len(rows) != 0 {
			t.Errorf("empty period: %+v %v", rows, err)
		}
	})
}

func TestSLAReassign(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupSLA(t, db)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Write.ExecContext(ctx, db.Dialect.Rebind(q), args...); err != nil {
				t.Fatal(err)
			}
		}
		exec("INSERT INTO teams (name, manager, created_at) VALUES ('field', 'boss', 0)")
		for _, u := range []struct {
			name, role string
			active     bool
		}{{"boss", "manager", true}, {"ito", "sales", true}, {"kato", "sales", false}, {"sato", "sales", true}, {"suzuki", "sales", true}, {"viewer", "viewer", true}} {
			exec("INSERT INTO users (name, role, team, active, created_at, updated_at) VALUES (?, ?, 'field', ?, 0, 0)", u.name, u.role, u.active)
		}
		b.tx(t, func(tx *store.Tx) error {
			if m, err := tx.SLAManager(ctx, "field"); m != "boss" || err != nil {
				t.Errorf("manager: %q %v", m, err)
			}
			if m, err := tx.SLAManager(ctx, "nobody"); m != "" || err != nil {
				t.Errorf("manager of unknown team: %q %v", m, err)
			}
			if team, err := tx.SLAUserTeam(ctx, "sato"); team != "field" || err != nil {
				t.Errorf("team of sato: %q %v", team, err)
			}
			return nil
		})
		b.start(t, leadflow.StageMQL, "mql-accept", "sato", time.Hour)
		next := func(current string) string {
			var got string
			b.tx(t, func(tx *store.Tx) error {
				var err error
				got, err = tx.SLANextMember(ctx, "field", b.lead, "mql-accept", b.now.Add(-time.Minute), current)
				return err
			})
			return got
		}
		// After sato comes suzuki; kato (inactive) and viewer are skipped;
		// sato already held a clock.
		if got := next("sato"); got != "suzuki" {
			t.Fatalf("next after sato = %q", got)
		}
		b.start(t, leadflow.StageMQL, "mql-accept", "suzuki", time.Hour)
		if got := next("suzuki"); got != "boss" {
			t.Fatalf("next after suzuki (wrapping) = %q", got)
		}
		b.start(t, leadflow.StageMQL, "mql-accept", "boss", time.Hour)
		b.start(t, leadflow.StageMQL, "mql-accept", "ito", time.Hour)
		if got := next("ito"); got != "" {
			t.Fatalf("everyone had a turn, got %q", got)
		}

		b.tx(t, func(tx *store.Tx) error {
			ok, err := tx.SLAReassign(ctx, b.lead, "sato", "suzuki", "field", "mql-accept", "system:sla")
			if !ok || err != nil {
				t.Errorf("reassign: %v %v", ok, err)
			}
			ok, err = tx.SLAReassign(ctx, b.lead, "sato", "ito", "field", "mql-accept", "system:sla")
			if ok || err != nil {
				t.Errorf("reassign from a former owner: %v %v", ok, err)
			}
			return nil
		})
		l, err := db.FindLead(ctx, b.lead)
		if err != nil || l.Owner != "suzuki" || l.Team != "field" {
			t.Fatalf("lead after reassign: %+v %v", l, err)
		}
		var n int
		if err := db.Read.QueryRowContext(ctx, db.Dialect.Rebind(
			"SELECT count(*) FROM assignments WHERE lead_id = ? AND owner = 'suzuki' AND previous_owner = 'sato' AND rule = 'sla:mql-accept'"),
			b.lead).Scan(&n); err != nil || n != 1 {
			t.Fatalf("assignment rows: %d %v", n, err)
		}
	})
}

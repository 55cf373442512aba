package flow

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/sla"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

// recorder is a notify.Emitter that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	events []notify.Event
}

func (r *recorder) Emit(_ context.Context, tx *store.Tx, ev notify.Event) error {
	if tx == nil {
		panic("emit outside a transaction")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

func (r *recorder) list() []notify.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Event(nil), r.events...)
}

type slaBundle struct {
	db    *store.DB
	queue *jobs.Queue
	flow  *Flow
	rec   *recorder
	w     *sla.Workers

	mu  sync.Mutex
	now time.Time
}

// setupSLA returns a flow on db with a settable clock, SLA workers that
// record their events, and (when work) a River client working them.
func setupSLA(t *testing.T, db *store.DB, work bool) *slaBundle {
	t.Helper()
	ctx := context.Background()
	// Tuesday 2 June 2026, 10:00 in Tokyo.
	b := &slaBundle{db: db, rec: &recorder{}, now: time.Date(2026, 6, 2, 10, 0, 0, 0, tokyo)}
	db.Now = func() time.Time { b.mu.Lock(); defer b.mu.Unlock(); return b.now }
	b.w = &sla.Workers{DB: db, Emitter: b.rec,
		Context: func(ctx context.Context, tx *store.Tx, leadID int64) (map[string]any, error) {
			l, err := tx.FindLead(ctx, leadID)
			return map[string]any{notify.DataLead: l}, err
		}}
	var h *jobs.Handlers
	if work {
		noop := func(context.Context) error { return nil }
		h = &jobs.Handlers{Register: []func(*river.Workers){b.w.Register},
			Rescore: func(context.Context, int64) error { return nil }, DecaySweep: noop}
	}
	q, err := jobs.New(db, h, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b.queue = q
	b.w.Enqueue = q.Insert
	b.flow = New(db, q, nil)
	if err := b.flow.EnsureModel(ctx); err != nil {
		t.Fatal(err)
	}
	if work {
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = q.Stop(ctx)
		})
	}
	return b
}

func (b *slaBundle) set(t time.Time) { b.mu.Lock(); b.now = t; b.mu.Unlock() }

func (b *slaBundle) unit(t *testing.T, fn func(ctx context.Context, u *unit) error) {
	t.Helper()
	ctx := context.Background()
	err := b.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := b.flow.newUnit(ctx, tx)
		if err != nil {
			return err
		}
		if err := fn(ctx, u); err != nil {
			return err
		}
		return u.flush(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (b *slaBundle) createLead(t *testing.T, email, owner, team string) int64 {
	t.Helper()
	l, err := b.flow.CreateLead(context.Background(), leadflow.LeadPatch{Email: &email}, "test")
	if err != nil {
		t.Fatal(err)
	}
	b.unit(t, func(ctx context.Context, u *unit) error {
		// The owner is a real, active user, so routing on a stage change
		// keeps the lead with them.
		if owner != "" {
			if _, err := u.tx.FindUser(ctx, owner); leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
				if err := u.tx.CreateUser(ctx, &store.User{Name: owner, Role: store.RoleSales, Team: team}, "test"); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
		}
		st, err := u.load(ctx, l.ID)
		if err != nil {
			return err
		}
		st.lead.Owner, st.lead.Team, st.dirty = owner, team, true
		return nil
	})
	return l.ID
}

// move does what the lead's flow does on a stage change: the transition
// starts the clocks of the new stage.
func (b *slaBundle) move(t *testing.T, id int64, to leadflow.Stage) {
	t.Helper()
	b.unit(t, func(ctx context.Context, u *unit) error {
		st, err := u.load(ctx, id)
		if err != nil {
			return err
		}
		return u.transition(ctx, st, to, "test", "", u.score(st))
	})
}

func (b *slaBundle) stop(t *testing.T, id int64, target sla.Target, actor Actor) {
	t.Helper()
	b.unit(t, func(ctx context.Context, u *unit) error {
		st, err := u.load(ctx, id)
		if err != nil {
			return err
		}
		return u.stopSLA(ctx, st, target, actor)
	})
}

func (b *slaBundle) clocks(t *testing.T, id int64) map[string]store.SLAClock {
	t.Helper()
	list, err := b.db.ClocksOfLead(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.SLAClock{}
	for _, c := range list {
		out[c.Policy+"/"+c.Owner] = c
	}
	return out
}

func (b *slaBundle) putSettings(t *testing.T, src string) {
	t.Helper()
	if _, err := sla.Parse("sla.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	if err := b.db.InTx(context.Background(), func(tx *store.Tx) error {
		return tx.PutSetting(context.Background(), store.SettingSLA, src, "test")
	}); err != nil {
		t.Fatal(err)
	}
}

func (b *slaBundle) jobsOf(t *testing.T, kind string) []*rivertype.JobRow {
	t.Helper()
	res, err := b.queue.Client().JobList(context.Background(), river.NewJobListParams().Kinds(kind).First(100))
	if err != nil {
		t.Fatal(err)
	}
	return res.Jobs
}

func TestSLAStartStop(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setupSLA(t, db, false)
		t0 := b.now
		id := b.createLead(t, "taro@example.co.jp", "sato", "")

		b.move(t, id, leadflow.StageMQL)
		c := b.clocks(t, id)["mql-accept/sato"]
		// Two business days from Tuesday 10:00; warning at 75 % (13.5 h).
		if c.Status != store.ClockRunning || c.Stage != leadflow.StageMQL ||
			!c.DueAt.Equal(time.Date(2026, 6, 4, 10, 0, 0, 0, tokyo)) || !c.WarnAt.Equal(time.Date(2026, 6, 3, 14, 30, 0, 0, tokyo)) {
			t.Fatalf("mql clock: %+v", c)
		}
		// The timers are River jobs scheduled at the warning and the deadline.
		warns, breaches := b.jobsOf(t, "sla_warning"), b.jobsOf(t, "sla_breach")
		if len(warns) != 1 || len(breaches) != 1 || !warns[0].ScheduledAt.Equal(c.WarnAt) || !breaches[0].ScheduledAt.Equal(c.DueAt) ||
			warns[0].State != rivertype.JobStateScheduled {
			t.Fatalf("timers: %+v %+v", warns, breaches)
		}

		// A touch does not answer an MQL; accepting it does.
		b.set(t0.Add(time.Hour))
		b.stop(t, id, sla.TargetFirstTouch, "user:sato")
		if got := b.clocks(t, id)["mql-accept/sato"]; got.Status != store.ClockRunning {
			t.Fatalf("touch stopped the accept clock: %+v", got)
		}
		b.stop(t, id, sla.TargetAccept, "user:sato")
		if got := b.clocks(t, id)["mql-accept/sato"]; got.Status != store.ClockMet || got.StoppedBy != "user:sato" {
			t.Fatalf("accept: %+v", got)
		}

		// SQL, then HQL before anyone touched it: the SQL clock is
		// canceled, the HQL clock runs; a touch meets it.
		b.move(t, id, leadflow.StageSQL)
		b.set(t0.Add(2 * time.Hour))
		b.move(t, id, leadflow.StageHQL)
		cs := b.clocks(t, id)
		if got := cs["sql-first-touch/sato"]; got.Status != store.ClockCanceled || got.StoppedBy != "stage:hql" {
			t.Fatalf("sql clock: %+v", got)
		}
		hql := cs["hql-first-touch/sato"]
		if hql.Status != store.ClockRunning || !hql.DueAt.Equal(t0.Add(3*time.Hour)) || !hql.WarnAt.Equal(t0.Add(2*time.Hour+45*time.Minute)) {
			t.Fatalf("hql clock: %+v", hql)
		}
		// Entering the same stage again does not start a second clock.
		b.unit(t, func(ctx context.Context, u *unit) error {
			st, err := u.load(ctx, id)
			if err != nil {
				return err
			}
			return u.startSLA(ctx, st)
		})
		if n := len(b.jobsOf(t, "sla_breach")); n != 3 {
			t.Fatalf("%d breach timers, want 3 (mql, sql, hql)", n)
		}
		b.set(t0.Add(2*time.Hour + 20*time.Minute))
		b.stop(t, id, sla.TargetFirstTouch, "user:sato")
		if got := b.clocks(t, id)["hql-first-touch/sato"]; got.Status != store.ClockMet || !got.StoppedAt.Equal(b.now) {
			t.Fatalf("touched hql clock: %+v", got)
		}
		// Nothing fired: no timer ran.
		if ev := b.rec.list(); len(ev) != 0 {
			t.Fatalf("events: %+v", ev)
		}
	})
}

// TestSLATimers runs the real River workers. The clock is set in 2030 so
// that the scheduled jobs never come due on their own; the test makes each
// available with JobRetry once the fake clock has reached its time.
func TestSLATimers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupSLA(t, db, true)
		t0 := time.Date(2030, 6, 4, 10, 0, 0, 0, tokyo) // a Tuesday
		b.set(t0)
		id := b.createLead(t, "hanako@example.co.jp", "sato", "")
		b.move(t, id, leadflow.StageHQL)
		hql := b.clocks(t, id)["hql-first-touch/sato"]
		warn, breach := b.jobsOf(t, "sla_warning"), b.jobsOf(t, "sla_breach")
		if len(warn) != 1 || len(breach) != 1 {
			t.Fatalf("timers: %d warning, %d breach", len(warn), len(breach))
		}
		events, cancel := b.queue.Client().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()
		run := func(job *rivertype.JobRow) {
			t.Helper()
			if _, err := b.queue.Client().JobRetry(ctx, job.ID); err != nil {
				t.Fatal(err)
			}
			timeout := time.After(30 * time.Second)
			for {
				select {
				case ev := <-events:
					if ev.Job.ID != job.ID {
						continue
					}
					if ev.Kind != river.EventKindJobCompleted {
						t.Fatalf("job %s: %s %v", job.Kind, ev.Kind, ev.Job.Errors)
					}
					return
				case <-timeout:
					t.Fatalf("job %s did not run", job.Kind)
				}
			}
		}

		b.set(hql.WarnAt)
		run(warn[0])
		ev := b.rec.list()
		if len(ev) != 1 || ev[0].Type != notify.SLAWarning || ev[0].LeadID != id || ev[0].Owner != "sato" {
			t.Fatalf("after warning: %+v", ev)
		}
		sd, _ := ev[0].Data[notify.DataSLA].(map[string]any)
		if sd["policy"] != "hql-first-touch" || sd["remaining"] != "15m0s" || ev[0].Data[notify.DataLead] == nil {
			t.Fatalf("warning data: %+v", ev[0].Data)
		}

		b.set(hql.DueAt)
		run(breach[0])
		// The same timer again (a restart after the work but before River
		// recorded it): nothing more.
		run(breach[0])
		run(warn[0])
		ev = b.rec.list()
		if len(ev) != 2 || ev[1].Type != notify.SLABreached || ev[1].Owner != "sato" {
			t.Fatalf("after breach: %+v", ev)
		}
		got := b.clocks(t, id)["hql-first-touch/sato"]
		if got.Status != store.ClockBreached || got.WarnedAt == nil || !got.WarnedAt.Equal(hql.WarnAt) || !got.BreachedAt.Equal(hql.DueAt) {
			t.Fatalf("clock: %+v", got)
		}
	})
}

func TestSLAEscalation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupSLA(t, db, false)
		b.putSettings(t, `
calendar: {time_zone: Asia/Tokyo, work_hours: ["09:00-12:00", "13:00-18:00"]}
policies:
  - {id: hql-first-touch, stage: hql, target: first_touch, within: 1h, warn_at: 50%, escalate: {notify_manager: true, reassign: true}}
  - {id: sql-first-touch, stage: sql, target: first_touch, within: 1d, escalate: {notify_manager: false}}
`)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Write.ExecContext(ctx, db.Dialect.Rebind(q), args...); err != nil {
				t.Fatal(err)
			}
		}
		exec("INSERT INTO teams (name, manager, created_at) VALUES ('field', 'boss', 0)")
		for _, u := range []struct {
			name   string
			active bool
		}{{"ito", true}, {"kato", false}, {"sato", true}, {"suzuki", true}} {
			exec("INSERT INTO users (name, role, team, active, created_at, updated_at) VALUES (?, 'sales', 'field', ?, 0, 0)", u.name, u.active)
		}
		// sato's lead has no team of its own: the owner's team counts.
		id := b.createLead(t, "jiro@example.co.jp", "sato", "")
		b.move(t, id, leadflow.StageHQL)
		first := b.clocks(t, id)["hql-first-touch/sato"]

		b.set(first.DueAt)
		fired, err := b.w.Breach(ctx, first.ID)
		if err != nil || !fired {
			t.Fatalf("breach: %v %v", fired, err)
		}
		if fired, err := b.w.Breach(ctx, first.ID); err != nil || fired {
			t.Fatalf("second breach: %v %v", fired, err)
		}
		ev := b.rec.list()
		if len(ev) != 2 {
			t.Fatalf("events: %+v", ev)
		}
		// lead.assigned to the next rep (kato is inactive), then the
		// breach to the manager.
		assigned, breached := ev[0], ev[1]
		if assigned.Type != notify.LeadAssigned || assigned.Owner != "suzuki" || assigned.Data[notify.DataPreviousOwner] != "sato" {
			t.Fatalf("assigned: %+v", assigned)
		}
		sd := breached.Data[notify.DataSLA].(map[string]any)
		if breached.Type != notify.SLABreached || breached.Owner != "boss" || sd["manager"] != "boss" ||
			sd["reassigned_to"] != "suzuki" || sd["owner"] != "sato" {
			t.Fatalf("breached: %+v", breached)
		}
		l, err := db.FindLead(ctx, id)
		if err != nil || l.Owner != "suzuki" || l.Team != "field" {
			t.Fatalf("lead: %+v %v", l, err)
		}
		cs := b.clocks(t, id)
		if got := cs["hql-first-touch/sato"]; got.Status != store.ClockBreached || got.StoppedBy != "reassigned:suzuki" {
			t.Fatalf("first clock: %+v", got)
		}
		second := cs["hql-first-touch/suzuki"]
		if second.Status != store.ClockRunning || !second.StartedAt.Equal(first.DueAt) ||
			!second.DueAt.Equal(first.DueAt.Add(time.Hour)) {
			t.Fatalf("fresh clock for suzuki: %+v", second)
		}
		if n := len(b.jobsOf(t, "sla_breach")); n != 2 {
			t.Fatalf("%d breach timers, want 2", n)
		}

		// suzuki misses it too: ito (wrapping around), then nobody is left.
		b.set(second.DueAt)
		if _, err := b.w.Breach(ctx, second.ID); err != nil {
			t.Fatal(err)
		}
		third := b.clocks(t, id)["hql-first-touch/ito"]
		b.set(third.DueAt)
		if _, err := b.w.Breach(ctx, third.ID); err != nil {
			t.Fatal(err)
		}
		if l, _ := db.FindLead(ctx, id); l.Owner != "ito" {
			t.Fatalf("owner after the round: %q", l.Owner)
		}
		if cs := b.clocks(t, id); len(cs) != 3 || cs["hql-first-touch/ito"].Status != store.ClockBreached {
			t.Fatalf("clocks after the round: %+v", cs)
		}
		last := b.rec.list()
		if e := last[len(last)-1]; e.Type != notify.SLABreached || e.Owner != "boss" || e.Data[notify.DataSLA].(map[string]any)["reassigned_to"] != nil {
			t.Fatalf("last breach: %+v", e)
		}

		// notify_manager: false goes to the owner; a policy removed after
		// the clock started still breaches, to the manager.
		id2 := b.createLead(t, "saburo@example.co.jp", "sato", "field")
		b.move(t, id2, leadflow.StageSQL)
		id3 := b.createLead(t, "shiro@example.co.jp", "sato", "field")
		b.move(t, id3, leadflow.StageSQL)
		sqlClock := b.clocks(t, id2)["sql-first-touch/sato"]
		if sqlClock.WarnAt.IsZero() {
			t.Fatalf("warn_at defaults to 75 %%: %+v", sqlClock)
		}
		b.set(sqlClock.DueAt)
		if _, err := b.w.Breach(ctx, sqlClock.ID); err != nil {
			t.Fatal(err)
		}
		if e := b.rec.list(); e[len(e)-1].Owner != "sato" || e[len(e)-1].LeadID != id2 {
			t.Fatalf("breach without manager: %+v", e[len(e)-1])
		}
		b.putSettings(t, "policies: [{id: mql-accept, stage: mql, target: accept, within: 2d}]\n")
		if _, err := b.w.Breach(ctx, b.clocks(t, id3)["sql-first-touch/sato"].ID); err != nil {
			t.Fatal(err)
		}
		if e := b.rec.list(); e[len(e)-1].Owner != "boss" || e[len(e)-1].LeadID != id3 {
			t.Fatalf("breach of a removed policy: %+v", e[len(e)-1])
		}
	})
}

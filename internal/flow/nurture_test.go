package flow_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/nurture"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// nurtureSeq waits first, then emails: the wait is what pause and resume
// are about. {{WAIT}} is replaced by each test.
const nurtureSeq = `name: flow-test
enrol:
  stages: [recycled]
exit:
  events: ["Email Replied"]
templates:
  first:
    subject: "{{.Lead.Name}} 様"
    text: "{{.Lead.Name}} 様"
steps:
  - wait: {{WAIT}}
  - id: first
    email: first
  - id: call
    task: {kind: call, title: "お電話", due: 1 business day}
`

type nurtureBundle struct {
	db   *store.DB
	flow *flow.Flow
	svc  *nurture.Service
	seq  *store.Sequence
	mu   sync.Mutex
	now  time.Time
}

// setupNurture: a flow and a nurture service on db with a settable clock
// (Monday 2026-06-01 12:00 in Tokyo), a queue whose jobs the test runs by
// hand, and the sequence stored.
func setupNurture(t *testing.T, db *store.DB, wait string) *nurtureBundle {
	t.Helper()
	ctx := context.Background()
	b := &nurtureBundle{db: db, now: time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)}
	db.Now = func() time.Time { b.mu.Lock(); defer b.mu.Unlock(); return b.now }
	q, err := jobs.New(db, nil, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b.flow = flow.New(db, q, nil)
	if err := b.flow.EnsureModel(ctx); err != nil {
		t.Fatal(err)
	}
	b.svc = nurture.New(db, b.flow.NurtureSequences(), nurture.Options{Now: db.Now})
	b.svc.SetQueue(q)
	b.svc.SetRecorder(b.flow)
	src := strings.Replace(nurtureSeq, "{{WAIT}}", wait, 1)
	if _, err := nurture.Parse("flow-test.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	b.seq = &store.Sequence{Name: "flow-test", Source: src, Active: true}
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.SaveSequence(ctx, b.seq) }); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *nurtureBundle) set(t time.Time) { b.mu.Lock(); b.now = t; b.mu.Unlock() }

// recycledLead creates a lead and recycles it, which enrols it.
func (b *nurtureBundle) recycledLead(t *testing.T, email string) (*leadflow.Lead, *store.Enrolment) {
	t.Helper()
	ctx := context.Background()
	name := "山田 太郎"
	l, err := b.flow.CreateLead(ctx, leadflow.LeadPatch{Email: &email, Name: &name}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if l, err = b.flow.MoveLead(ctx, l.ID, leadflow.StageRecycled, "no-budget", "test"); err != nil {
		t.Fatal(err)
	}
	es, err := b.db.EnrolmentsOfLead(ctx, l.ID)
	if err != nil || len(es) != 1 || es[0].Status != store.EnrolmentActive || es[0].Step != 0 {
		t.Fatalf("recycling did not enrol: %+v %v", es, err)
	}
	return l, &es[0]
}

func (b *nurtureBundle) enrolment(t *testing.T, id int64) *store.Enrolment {
	t.Helper()
	e, err := b.db.Enrolment(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func jst(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.FixedZone("JST", 9*3600)).UTC()
}

// TestNurtureResumeContinuesBusinessWait: a 16-business-hour wait started
// Monday 12:00 and paused at 13:00 has 15 business hours left; resumed on
// Friday 12:00 it ends on Monday 18:00, not 16 hours after the resume nor
// at once. The step job queued before the pause does nothing.
func TestNurtureResumeContinuesBusinessWait(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupNurture(t, db, "16 business hours")
		_, e := b.recycledLead(t, "wait@example.co.jp")
		if err := b.svc.RunStep(ctx, nurture.StepArgs{EnrolmentID: e.ID, Step: 0, At: e.NextRunAt}); err != nil {
			t.Fatal(err)
		}
		waiting := b.enrolment(t, e.ID)
		if due := jst(2026, 6, 3, 10, 0); waiting.Step != 1 || !waiting.NextRunAt.Equal(due) {
			t.Fatalf("waiting: step %d until %s, want step 1 until %s", waiting.Step, waiting.NextRunAt, due)
		}
		b.set(jst(2026, 6, 1, 13, 0))
		if _, err := b.flow.PauseEnrolment(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := b.flow.PauseEnrolment(ctx, e.ID); leadflow.ErrorCode(err) != leadflow.ECONFLICT {
			t.Fatalf("paused twice: %v", err)
		}
		// The job of step 1 fires while paused: nothing happens.
		b.set(waiting.NextRunAt)
		if err := b.svc.RunStep(ctx, nurture.StepArgs{EnrolmentID: e.ID, Step: 1, At: waiting.NextRunAt}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.db.SendOf(ctx, e.ID, 1); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			t.Fatalf("a paused enrolment sent: %v", err)
		}
		b.set(jst(2026, 6, 5, 12, 0))
		resumed, err := b.flow.ResumeEnrolment(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := jst(2026, 6, 8, 18, 0); resumed.Status != store.EnrolmentActive || resumed.Step != 1 || !resumed.NextRunAt.Equal(want) {
			t.Fatalf("resumed: %s step %d until %s, want until %s", resumed.Status, resumed.Step, resumed.NextRunAt, want)
		}
		if _, err := b.flow.ResumeEnrolment(ctx, e.ID); leadflow.ErrorCode(err) != leadflow.ECONFLICT {
			t.Fatalf("resumed twice: %v", err)
		}
		// The job queued before the pause is stale now: it does nothing.
		if err := b.svc.RunStep(ctx, nurture.StepArgs{EnrolmentID: e.ID, Step: 1, At: waiting.NextRunAt}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.db.SendOf(ctx, e.ID, 1); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			t.Fatalf("the stale job sent: %v", err)
		}
		// The resumed job runs the email step (no SMTP server is
		// configured: the send is claimed, stays pending, the job fails).
		b.set(resumed.NextRunAt)
		err = b.svc.RunStep(ctx, nurture.StepArgs{EnrolmentID: e.ID, Step: 1, At: resumed.NextRunAt})
		if leadflow.ErrorCode(err) != leadflow.ECONFLICT || !strings.Contains(err.Error(), "SMTP is not configured") {
			t.Fatalf("resumed step: %v", err)
		}
		if s, err := b.db.SendOf(ctx, e.ID, 1); err != nil || s.Status != store.SendPending {
			t.Fatalf("send of the resumed step: %+v %v", s, err)
		}
	})
}

// TestNurtureResumeContinuesPlainWait: a 3-day wait paused after one day
// and resumed four days later ends two days after the resume.
func TestNurtureResumeContinuesPlainWait(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupNurture(t, db, "3d")
		_, e := b.recycledLead(t, "plain@example.co.jp")
		t0 := b.now
		if err := b.svc.RunStep(ctx, nurture.StepArgs{EnrolmentID: e.ID, Step: 0, At: e.NextRunAt}); err != nil {
			t.Fatal(err)
		}
		b.set(t0.Add(24 * time.Hour))
		if _, err := b.flow.PauseEnrolment(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		b.set(t0.Add(5 * 24 * time.Hour))
		resumed, err := b.flow.ResumeEnrolment(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := t0.Add(7 * 24 * time.Hour); !resumed.NextRunAt.Equal(want) {
			t.Fatalf("resumed until %s, want %s", resumed.NextRunAt, want)
		}
		// Paused before the wait began (step 0 not run yet): the wait
		// runs whole after the resume.
		_, e2 := b.recycledLead(t, "early@example.co.jp")
		if _, err := b.flow.PauseEnrolment(ctx, e2.ID); err != nil {
			t.Fatal(err)
		}
		if r, err := b.flow.ResumeEnrolment(ctx, e2.ID); err != nil || r.Step != 0 || !r.NextRunAt.Equal(b.now) {
			t.Fatalf("resume before the wait: %+v %v", r, err)
		}
	})
}

func TestNurtureExitAndEnrolByHand(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupNurture(t, db, "1d")
		l, e := b.recycledLead(t, "exit@example.co.jp")
		if got, why, err := b.flow.EnrolInSequence(ctx, b.seq.ID, l.ID, "ops"); err != nil || got != nil || why != "already in the sequence" {
			t.Fatalf("enrolled twice: %+v %q %v", got, why, err)
		}
		if _, err := b.flow.ExitEnrolment(ctx, e.ID, "replied"); err != nil {
			t.Fatal(err)
		}
		if got := b.enrolment(t, e.ID); got.Status != store.EnrolmentExited || got.ExitReason != "replied" {
			t.Fatalf("exited: %+v", got)
		}
		if _, err := b.flow.ExitEnrolment(ctx, e.ID, ""); leadflow.ErrorCode(err) != leadflow.ECONFLICT {
			t.Fatalf("exited twice: %v", err)
		}
		again, why, err := b.flow.EnrolInSequence(ctx, b.seq.ID, l.ID, "ops")
		if err != nil || again == nil || again.Cause != "ops" {
			t.Fatalf("enrol by hand: %+v %q %v", again, why, err)
		}
		if _, _, err := b.flow.EnrolInSequence(ctx, 999, l.ID, "ops"); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			t.Fatalf("unknown sequence: %v", err)
		}
		// Reaching SQL ends the enrolment as converted.
		if _, err := b.flow.MoveLead(ctx, l.ID, leadflow.StageSQL, "", "test"); err != nil {
			t.Fatal(err)
		}
		if got := b.enrolment(t, again.ID); got.Status != store.EnrolmentExited || got.ExitReason != store.ExitConverted {
			t.Fatalf("after SQL: %+v", got)
		}
	})
}

func TestNurtureTrackingAndTasks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupNurture(t, db, "1h")
		l, e := b.recycledLead(t, "track@example.co.jp")
		var send *store.Send
		if err := db.InTx(ctx, func(tx *store.Tx) (err error) {
			send, err = tx.ClaimSend(ctx, &store.Send{EnrolmentID: e.ID, Step: 1, SequenceID: b.seq.ID, LeadID: l.ID, Email: l.Email})
			if err == nil {
				_, err = tx.FinishSend(ctx, send.ID, store.SendSent, "m@x")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		before, _ := db.FindLead(ctx, l.ID)
		for range 2 { // a repeated click counts once
			if err := b.flow.NurtureEvent(ctx, nurture.Tracked{Send: send, Name: nurture.EventEmailClicked, MessageID: "click-1",
				Properties: map[string]any{"url": "https://example.co.jp/case/1"}}); err != nil {
				t.Fatal(err)
			}
		}
		evs, err := db.EventsOfLead(ctx, l.ID)
		clicks := 0
		for _, ev := range evs {
			if ev.Name == nurture.EventEmailClicked {
				clicks++
			}
		}
		after, _ := db.FindLead(ctx, l.ID)
		if err != nil || clicks != 1 || after.Score <= before.Score {
			t.Fatalf("click: %d events, score %v → %v, %v", clicks, before.Score, after.Score, err)
		}
		if s, _ := db.Send(ctx, send.ID); s.ClickedAt == nil || s.OpenedAt == nil {
			t.Fatalf("send after click: %+v", s)
		}
		// A call task: completing it logs the touch.
		var task store.Task
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			task = store.Task{EnrolmentID: e.ID, Step: 2, SequenceID: b.seq.ID, LeadID: l.ID, Kind: "call", Title: "お電話", DueAt: tx.Now}
			return tx.CreateTask(ctx, &task)
		}); err != nil {
			t.Fatal(err)
		}
		open, _ := db.OpenTasks(ctx, "", 10)
		if len(open) != 1 {
			t.Fatalf("open tasks: %+v", open)
		}
		done, touch, err := b.flow.CompleteNurtureTask(ctx, open[0].ID, "connected", "", "sato")
		if err != nil || done.Status != store.TaskDone || touch.Kind != "call" || touch.Note != "お電話" || *done.TouchID != touch.ID {
			t.Fatalf("complete: %+v %+v %v", done, touch, err)
		}
		if _, _, err := b.flow.CompleteNurtureTask(ctx, open[0].ID, "again", "", "sato"); leadflow.ErrorCode(err) != leadflow.ECONFLICT {
			t.Fatalf("completed twice: %v", err)
		}
		// An unsubscribe withdraws consent, suppresses and ends the enrolment.
		if err := b.flow.NurtureEvent(ctx, nurture.Tracked{Send: send, Name: nurture.EventUnsubscribed, MessageID: "unsub-1"}); err != nil {
			t.Fatal(err)
		}
		l2, _ := db.FindLead(ctx, l.ID)
		if got := b.enrolment(t, e.ID); !l2.Unsubscribed || got.Status != store.EnrolmentExited || got.ExitReason != nurture.ExitUnsubscribed {
			t.Fatalf("after unsubscribe: lead %+v enrolment %+v", l2, got)
		}
		if _, why, _ := b.flow.EnrolInSequence(ctx, b.seq.ID, l.ID, "ops"); why == "" {
			t.Fatal("an unsubscribed lead was enrolled again")
		}
	})
}

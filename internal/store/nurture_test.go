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

// nurtureBundle is a database with a settable clock, one sequence and
// two leads.
type nurtureBundle struct {
	db    *store.DB
	mu    sync.Mutex
	now   time.Time
	seq   *store.Sequence
	leads [2]*leadflow.Lead
}

func setupNurture(t *testing.T, db *store.DB) *nurtureBundle {
	t.Helper()
	ctx := context.Background()
	b := &nurtureBundle{db: db, now: time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC)}
	db.Now = func() time.Time { b.mu.Lock(); defer b.mu.Unlock(); return b.now }
	b.seq = &store.Sequence{Name: "recycled", Source: "name: recycled\n", Active: true, UpdatedBy: "ops"}
	b.tx(t, func(tx *store.Tx) error {
		for i, email := range []string{"taro@example.co.jp", "hanako@example.co.jp"} {
			b.leads[i] = &leadflow.Lead{Email: email, Owner: "sato", Stage: leadflow.StageRecycled}
			if err := tx.CreateLead(ctx, b.leads[i]); err != nil {
				return err
			}
		}
		return tx.SaveSequence(ctx, b.seq)
	})
	return b
}

func (b *nurtureBundle) set(t time.Time) { b.mu.Lock(); b.now = t; b.mu.Unlock() }

func (b *nurtureBundle) tx(t *testing.T, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := b.db.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func (b *nurtureBundle) enrol(t *testing.T, lead int64) *store.Enrolment {
	t.Helper()
	e := &store.Enrolment{SequenceID: b.seq.ID, LeadID: lead, Cause: "test", NextRunAt: b.now}
	b.tx(t, func(tx *store.Tx) error {
		ok, err := tx.Enrol(context.Background(), e)
		if err == nil && !ok {
			t.Fatalf("lead %d not enrolled", lead)
		}
		return err
	})
	return e
}

func TestNurtureSequences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupNurture(t, db)
		var stamp1, stamp2 string
		b.tx(t, func(tx *store.Tx) (err error) { stamp1, err = tx.SequencesStamp(ctx); return err })
		created := b.seq.CreatedAt
		b.set(b.now.Add(time.Minute))
		again := &store.Sequence{Name: "recycled", Source: "name: recycled\n# v2\n", Active: true, UpdatedBy: "ops2"}
		b.tx(t, func(tx *store.Tx) error { return tx.SaveSequence(ctx, again) })
		if again.ID != b.seq.ID || !again.CreatedAt.Equal(created) {
			t.Fatalf("save by name replaced: %+v (first %+v)", again, b.seq)
		}
		b.tx(t, func(tx *store.Tx) (err error) { stamp2, err = tx.SequencesStamp(ctx); return err })
		if stamp1 == stamp2 {
			t.Fatalf("stamp %q did not change on save", stamp1)
		}
		got, err := db.Sequence(ctx, b.seq.ID)
		if err != nil || got.Source != again.Source || got.UpdatedBy != "ops2" || !got.Active {
			t.Fatalf("sequence: %+v %v", got, err)
		}
		b.tx(t, func(tx *store.Tx) error {
			s, err := tx.SetSequenceActive(ctx, b.seq.ID, false, "ops")
			if err == nil && s.Active {
				t.Fatal("still active")
			}
			return err
		})
		all, err := db.Sequences(ctx)
		if err != nil || len(all) != 1 || all[0].Active {
			t.Fatalf("sequences: %+v %v", all, err)
		}
		if _, err := db.Sequence(ctx, 999); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			t.Fatalf("missing sequence: %v", err)
		}
	})
}

func TestNurtureEnrolments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupNurture(t, db)
		e := b.enrol(t, b.leads[0].ID)
		if e.ID == 0 || e.Status != store.EnrolmentActive || e.Step != 0 {
			t.Fatalf("enrolled: %+v", e)
		}
		// At most once at a time in a sequence.
		b.tx(t, func(tx *store.Tx) error {
			ok, err := tx.Enrol(ctx, &store.Enrolment{SequenceID: b.seq.ID, LeadID: b.leads[0].ID})
			if ok {
				t.Fatal("enrolled twice")
			}
			return err
		})
		// A move only applies when nobody moved the enrolment since it was read.
		stale := *e
		b.tx(t, func(tx *store.Tx) error {
			ok, err := tx.MoveEnrolment(ctx, e, 1, store.EnrolmentActive, "", b.now.Add(time.Hour))
			if !ok || err != nil {
				t.Fatalf("move: %v %v", ok, err)
			}
			ok, err = tx.MoveEnrolment(ctx, &stale, 1, store.EnrolmentActive, "", b.now)
			if ok {
				t.Fatal("a stale move applied")
			}
			return err
		})
		got, err := db.Enrolment(ctx, e.ID)
		if err != nil || got.Step != 1 || !got.NextRunAt.Equal(b.now.Add(time.Hour)) {
			t.Fatalf("after move: %+v %v", got, err)
		}
		// Exited: the lead may be enrolled again.
		b.tx(t, func(tx *store.Tx) error {
			_, err := tx.MoveEnrolment(ctx, e, 1, store.EnrolmentExited, store.ExitConverted, time.Time{})
			return err
		})
		e2 := b.enrol(t, b.leads[0].ID)
		other := b.enrol(t, b.leads[1].ID)
		list, err := db.EnrolmentsOfLead(ctx, b.leads[0].ID)
		if err != nil || len(list) != 2 || list[0].ExitReason != store.ExitConverted || list[1].ID != e2.ID {
			t.Fatalf("enrolments of lead: %+v %v", list, err)
		}
		b.tx(t, func(tx *store.Tx) error {
			live, err := tx.LiveEnrolmentsOfLead(ctx, b.leads[0].ID)
			if len(live) != 1 || live[0].ID != e2.ID {
				t.Fatalf("live: %+v", live)
			}
			return err
		})
		page, err := db.EnrolmentsOfSequence(ctx, b.seq.ID, 0, 2)
		if err != nil || len(page) != 2 || page[0].ID != e.ID {
			t.Fatalf("page 1: %+v %v", page, err)
		}
		page, err = db.EnrolmentsOfSequence(ctx, b.seq.ID, page[1].ID, 2)
		if err != nil || len(page) != 1 || page[0].ID != other.ID {
			t.Fatalf("page 2: %+v %v", page, err)
		}
	})
}

func TestNurturePauseKeepsTheWait(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupNurture(t, db)
		e := b.enrol(t, b.leads[0].ID)
		due := b.now.Add(3 * 24 * time.Hour)
		b.tx(t, func(tx *store.Tx) error {
			_, err := tx.MoveEnrolment(ctx, e, 2, store.EnrolmentActive, "", due)
			return err
		})
		pausedAt := b.now.Add(24 * time.Hour)
		b.set(pausedAt)
		b.tx(t, func(tx *store.Tx) error {
			ok, err := tx.PauseEnrolment(ctx, e)
			if !ok {
				t.Fatal("not paused")
			}
			return err
		})
		got, err := db.Enrolment(ctx, e.ID)
		if err != nil || got.Status != store.EnrolmentPaused || !got.PausedAt.Equal(pausedAt) || !got.NextRunAt.Equal(due) {
			t.Fatalf("paused: %+v %v", got, err)
		}
		// Pausing a paused enrolment does nothing.
		b.tx(t, func(tx *store.Tx) error {
			ok, err := tx.PauseEnrolment(ctx, got)
			if ok {
				t.Fatal("paused twice")
			}
			return err
		})
		// A move (the resume) clears the pause time.
		b.tx(t, func(tx *store.Tx) error {
			_, err := tx.MoveEnrolment(ctx, got, 2, store.EnrolmentActive, "", due.Add(time.Hour))
			return err
		})
		if got, err = db.Enrolment(ctx, e.ID); err != nil || got.Status != store.EnrolmentActive || !got.PausedAt.IsZero() {
			t.Fatalf("resumed: %+v %v", got, err)
		}
	})
}

func TestNurtureSendClaimedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupNurture(t, db)
		e := b.enrol(t, b.leads[0].ID)
		claim := func() *store.Send {
			var s *store.Send
			b.tx(t, func(tx *store.Tx) (err error) {
				s, err = tx.ClaimSend(ctx, &store.Send{EnrolmentID: e.ID, Step: 0, SequenceID: b.seq.ID, LeadID: b.leads[0].ID,
					Email: b.leads[0].Email})
				return err
			})
			return s
		}
		// Claimed concurrently: one row.
		var wg sync.WaitGroup
		ids := make([]int64, 4)
		for i := range ids {
			wg.Go(func() {
				err := db.InTx(ctx, func(tx *store.Tx) error {
					s, err := tx.ClaimSend(ctx, &store.Send{EnrolmentID: e.ID, Step: 0, SequenceID: b.seq.ID, LeadID: b.leads[0].ID,
						Email: b.leads[0].Email})
					if err == nil {
						ids[i] = s.ID
					}
					return err
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for _, id := range ids[1:] {
			if id != ids[0] {
				t.Fatalf("claims gave different sends: %v", ids)
			}
		}
		s := claim()
		if s.ID != ids[0] || s.Status != store.SendPending {
			t.Fatalf("claim: %+v", s)
		}
		// A failed attempt is recorded and the send stays pending.
		if err := db.SendAttempt(ctx, s.ID, "m-1@x", "dial tcp: connection refused"); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.SendOf(ctx, e.ID, 0); got.Attempts != 1 || got.LastError != "dial tcp: connection refused" || got.Status != store.SendPending {
			t.Fatalf("after attempt: %+v", got)
		}
		b.tx(t, func(tx *store.Tx) error {
			if _, err := tx.LastSend(ctx, e.ID); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
				t.Fatalf("last send before sent: %v", err)
			}
			ok, err := tx.FinishSend(ctx, s.ID, store.SendSent, "m-1@x")
			if !ok || err != nil {
				t.Fatalf("finish: %v %v", ok, err)
			}
			// Never marked twice; a later claim returns the sent send.
			ok, err = tx.FinishSend(ctx, s.ID, store.SendSent, "m-2@x")
			if ok || err != nil {
				t.Fatalf("finished twice: %v %v", ok, err)
			}
			last, err := tx.LastSend(ctx, e.ID)
			if err != nil || last.ID != s.ID {
				t.Fatalf("last send: %+v %v", last, err)
			}
			return nil
		})
		if again := claim(); again.ID != s.ID || again.Status != store.SendSent || again.MessageID != "m-1@x" || again.SentAt == nil {
			t.Fatalf("claim after sent: %+v", again)
		}
		// Opens, clicks and unsubscribes count the first time.
		b.tx(t, func(tx *store.Tx) error {
			for _, m := range []string{"clicked", "opened", "unsubscribed"} {
				if err := tx.MarkSend(ctx, s.ID, m); err != nil {
					return err
				}
			}
			if err := tx.MarkSend(ctx, s.ID, "forwarded"); leadflow.ErrorCode(err) != leadflow.EINTERNAL {
				t.Fatalf("unknown mark: %v", err)
			}
			return nil
		})
		first := b.now
		b.set(b.now.Add(time.Hour))
		b.tx(t, func(tx *store.Tx) error { return tx.MarkSend(ctx, s.ID, "opened") })
		got, err := db.Send(ctx, s.ID)
		if err != nil || got.OpenedAt == nil || !got.OpenedAt.Equal(first) || got.ClickedAt == nil || got.UnsubscribedAt == nil {
			t.Fatalf("marks: %+v %v", got, err)
		}
		sends, err := db.SendsOfEnrolment(ctx, e.ID)
		if err != nil || len(sends) != 1 || sends[0].ID != s.ID {
			t.Fatalf("sends of enrolment: %+v %v", sends, err)
		}
	})
}

func TestNurtureTasks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupNurture(t, db)
		e := b.enrol(t, b.leads[0].ID)
		mk := func(step int, owner string, due time.Duration) {
			b.tx(t, func(tx *store.Tx) error {
				return tx.CreateTask(ctx, &store.Task{EnrolmentID: e.ID, Step: step, SequenceID: b.seq.ID, LeadID: b.leads[0].ID,
					Kind: "call", Title: "事例の感想を伺う", Owner: owner, DueAt: b.now.Add(due)})
			})
		}
		mk(3, "sato", 2*time.Hour)
		mk(3, "suzuki", time.Hour) // the same step again: ignored
		mk(5, "suzuki", time.Hour)
		all, err := db.OpenTasks(ctx, "", 10)
		if err != nil || len(all) != 2 || all[0].Owner != "suzuki" || all[1].Owner != "sato" {
			t.Fatalf("open tasks by due time: %+v %v", all, err)
		}
		mine, err := db.OpenTasks(ctx, "sato", 10)
		if err != nil || len(mine) != 1 || mine[0].Step != 3 || mine[0].Title != "事例の感想を伺う" {
			t.Fatalf("sato's tasks: %+v %v", mine, err)
		}
		touch := &store.Touch{LeadID: b.leads[0].ID, Actor: "sato", Kind: "call", Outcome: "connected"}
		b.tx(t, func(tx *store.Tx) error {
			if err := tx.InsertTouch(ctx, touch); err != nil {
				return err
			}
			if err := tx.CompleteTask(ctx, mine[0].ID, "connected", touch.ID, "sato"); err != nil {
				return err
			}
			if err := tx.CompleteTask(ctx, mine[0].ID, "again", touch.ID, "sato"); leadflow.ErrorCode(err) != leadflow.ECONFLICT {
				t.Fatalf("completed twice: %v", err)
			}
			return nil
		})
		done, err := db.Task(ctx, mine[0].ID)
		if err != nil || done.Status != store.TaskDone || done.Outcome != "connected" || done.TouchID == nil || *done.TouchID != touch.ID ||
			done.DoneBy != "sato" || done.DoneAt == nil {
			t.Fatalf("done task: %+v %v", done, err)
		}
		if left, _ := db.OpenTasks(ctx, "", 10); len(left) != 1 {
			t.Fatalf("open after completion: %+v", left)
		}
	})
}

func TestNurtureSuppressionsAndBounces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupNurture(t, db)
		b.tx(t, func(tx *store.Tx) error {
			if r, err := tx.Suppression(ctx, "Taro@Example.co.jp"); err != nil || r != "" {
				t.Fatalf("not suppressed yet: %q %v", r, err)
			}
			if err := tx.Suppress(ctx, "Taro@Example.co.jp", "unsubscribed", b.leads[0].ID); err != nil {
				return err
			}
			if err := tx.Suppress(ctx, "taro@example.co.jp", "bounced", 0); err != nil {
				return err
			}
			if r, err := tx.Suppression(ctx, "TARO@example.co.jp"); err != nil || r != "bounced" {
				t.Fatalf("suppression: %q %v", r, err)
			}
			return nil
		})
		e := b.enrol(t, b.leads[1].ID)
		var send *store.Send
		b.tx(t, func(tx *store.Tx) (err error) {
			if send, err = tx.ClaimSend(ctx, &store.Send{EnrolmentID: e.ID, Step: 0, SequenceID: b.seq.ID, LeadID: b.leads[1].ID,
				Email: b.leads[1].Email}); err != nil {
				return err
			}
			_, err = tx.FinishSend(ctx, send.ID, store.SendSent, "nurture.1.1@example.co.jp")
			return err
		})
		t0 := b.now
		b.tx(t, func(tx *store.Tx) error {
			found, err := tx.SendByMessageID(ctx, "nurture.1.1@example.co.jp")
			if err != nil || found.ID != send.ID {
				t.Fatalf("by message id: %+v %v", found, err)
			}
			if _, err := tx.SendByMessageID(ctx, "nope@x"); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
				t.Fatalf("unknown message id: %v", err)
			}
			for i, at := range []time.Time{t0.Add(-40 * 24 * time.Hour), t0.Add(-time.Hour), t0} {
				ok, err := tx.RecordBounce(ctx, &store.Bounce{Email: "Hanako@Example.co.jp", Kind: store.BounceSoft, Reason: "452 mailbox full",
					LeadID: b.leads[1].ID, SendID: send.ID, At: at})
				if err != nil || !ok {
					t.Fatalf("bounce %d: %v %v", i, ok, err)
				}
			}
			// The same bounce again counts once.
			ok, err := tx.RecordBounce(ctx, &store.Bounce{Email: "hanako@example.co.jp", Kind: store.BounceSoft, At: t0})
			if ok || err != nil {
				t.Fatalf("duplicate bounce: %v %v", ok, err)
			}
			// By message id: once per message and kind, whatever the time.
			for i, want := range []bool{true, false} {
				ok, err := tx.RecordBounce(ctx, &store.Bounce{Email: "hanako@example.co.jp", Kind: store.BounceHard,
					MessageID: "nurture.1.1@example.co.jp", At: t0.Add(time.Duration(i) * time.Minute)})
				if err != nil || ok != want {
					t.Fatalf("hard bounce by message %d: %v %v", i, ok, err)
				}
			}
			n, err := tx.CountBounces(ctx, "HANAKO@example.co.jp", store.BounceSoft, t0.Add(-30*24*time.Hour))
			if err != nil || n != 2 {
				t.Fatalf("soft bounces in 30 days: %d %v", n, err)
			}
			if n, _ := tx.CountBounces(ctx, "hanako@example.co.jp", store.BounceHard, time.Time{}); n != 1 {
				t.Fatalf("hard bounces: %d", n)
			}
			if err := tx.MarkSendBounced(ctx, send.ID, store.BounceSoft, t0.Add(-time.Hour)); err != nil {
				return err
			}
			if err := tx.MarkSendBounced(ctx, send.ID, store.BounceHard, t0); err != nil {
				return err
			}
			// A hard bounce is not downgraded; the first time stays.
			return tx.MarkSendBounced(ctx, send.ID, store.BounceSoft, t0.Add(time.Hour))
		})
		got, err := db.Send(ctx, send.ID)
		if err != nil || got.Bounce != store.BounceHard || got.BouncedAt == nil || !got.BouncedAt.Equal(t0.Add(-time.Hour)) {
			t.Fatalf("bounced send: %+v %v", got, err)
		}
	})
}

func TestNurtureSequenceCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupNurture(t, db)
		e0 := b.enrol(t, b.leads[0].ID)
		e1 := b.enrol(t, b.leads[1].ID)
		b.tx(t, func(tx *store.Tx) error {
			for _, e := range []*store.Enrolment{e0, e1} {
				s, err := tx.ClaimSend(ctx, &store.Send{EnrolmentID: e.ID, Step: 0, SequenceID: b.seq.ID, LeadID: e.LeadID, Email: "x@example.com"})
				if err != nil {
					return err
				}
				if _, err := tx.FinishSend(ctx, s.ID, store.SendSent, ""); err != nil {
					return err
				}
				if e == e0 {
					if err := tx.MarkSend(ctx, s.ID, "clicked"); err != nil {
						return err
					}
				} else if err := tx.MarkSendBounced(ctx, s.ID, store.BounceHard, tx.Now); err != nil {
					return err
				}
			}
			if err := tx.CreateTask(ctx, &store.Task{EnrolmentID: e0.ID, Step: 1, SequenceID: b.seq.ID, LeadID: e0.LeadID,
				Kind: "call", Title: "call", DueAt: tx.Now}); err != nil {
				return err
			}
			if _, err := tx.MoveEnrolment(ctx, e0, 2, store.EnrolmentExited, store.ExitConverted, time.Time{}); err != nil {
				return err
			}
			_, err := tx.MoveEnrolment(ctx, e1, 0, store.EnrolmentExited, "bounced", time.Time{})
			return err
		})
		counts, err := db.SequenceCounts(ctx, b.seq.ID, 3)
		if err != nil || len(counts) != 3 {
			t.Fatalf("counts: %+v %v", counts, err)
		}
		c0, c1, c2 := counts[0], counts[1], counts[2]
		if c0.Reached != 2 || c0.Sent != 2 || c0.Opened != 1 || c0.Clicked != 1 || c0.Bounced != 1 || c0.HardBounced != 1 || c0.Exited != 1 {
			t.Fatalf("step 0: %+v", c0)
		}
		if c1.Reached != 1 || c1.Tasks != 1 || c1.TasksDone != 0 || c1.Sent != 0 {
			t.Fatalf("step 1: %+v", c1)
		}
		if c2.Reached != 1 || c2.Exited != 1 || c2.Converted != 1 {
			t.Fatalf("step 2: %+v", c2)
		}
	})
}

func TestNurtureKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		calls := 0
		gen := func() string { calls++; return "secret-" + string(rune('a'+calls)) }
		k1, err := db.NurtureKey(ctx, gen)
		if err != nil || k1 == "" {
			t.Fatalf("key: %q %v", k1, err)
		}
		k2, err := db.NurtureKey(ctx, gen)
		if err != nil || k2 != k1 || calls != 1 {
			t.Fatalf("key changed: %q %q (%d calls) %v", k1, k2, calls, err)
		}
	})
}

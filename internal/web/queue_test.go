package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// TestQueueTasks: a rep's open nurture call task shows in their queue;
// completing it without an outcome is refused and changes nothing, another
// rep cannot complete it, and completing it logs the call on the lead and
// takes it off the queue.
func TestQueueTasks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		mkt, sales, sales2 := b.login(t, "marketing1"), b.login(t, "sales1"), b.login(t, "manager1")
		if r := b.post(t, mkt, "/nurture", url.Values{"source": {sequenceExample}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("save sequence: %d %.2000s", r.StatusCode, r.Body)
		}
		seqs, err := db.Sequences(ctx)
		if err != nil || len(seqs) != 1 {
			t.Fatalf("sequences %+v %v", seqs, err)
		}
		e, why, err := b.flow.EnrolInSequence(ctx, seqs[0].ID, b.lead, "test")
		if err != nil || e == nil {
			t.Fatalf("enrol: %v %s", err, why)
		}
		task := store.Task{EnrolmentID: e.ID, Step: 9, SequenceID: seqs[0].ID, LeadID: b.lead, Kind: "call",
			Title: "導入事例のフォロー電話", Owner: "sales1", DueAt: b.clock()}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateTask(ctx, &task) }); err != nil {
			t.Fatal(err)
		}
		open, err := db.OpenTasks(ctx, "sales1", 10)
		if err != nil || len(open) != 1 {
			t.Fatalf("open tasks %+v %v", open, err)
		}
		path := "/queue/tasks/" + itoa(int(open[0].ID)) + "/complete"

		r := b.get(t, sales, "/queue")
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "導入事例のフォロー電話") || !strings.Contains(r.Body, `action="`+path+`"`) {
			t.Fatalf("queue: %d %.3000s", r.StatusCode, r.Body)
		}
		if r := b.get(t, sales2, "/queue"); strings.Contains(r.Body, "導入事例のフォロー電話") {
			t.Fatal("another user's queue shows the task")
		}
		if r := b.post(t, sales, path, url.Values{"outcome": {" "}}); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("no outcome: %d", r.StatusCode)
		}
		viewer := b.login(t, "viewer1")
		if r := b.post(t, viewer, path, url.Values{"outcome": {"connected"}}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("viewer completes a task: %d", r.StatusCode)
		}
		if again, _ := db.OpenTasks(ctx, "sales1", 10); len(again) != 1 {
			t.Fatal("a refused completion closed the task")
		}
		if r := b.post(t, sales, path, url.Values{"outcome": {"connected"}, "note": {"来週デモ"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("complete: %d %.2000s", r.StatusCode, r.Body)
		}
		done, err := db.Task(ctx, open[0].ID)
		if err != nil || done.Status != store.TaskDone || done.Outcome != "connected" || done.TouchID == nil {
			t.Fatalf("task after completion: %+v %v", done, err)
		}
		if r := b.get(t, sales, "/leads/"+itoa(int(b.lead))); !strings.Contains(r.Body, "来週デモ") {
			t.Fatal("the call is not on the lead page")
		}
		if r := b.get(t, sales, "/queue"); strings.Contains(r.Body, "導入事例のフォロー電話") {
			t.Fatal("a done task is still in the queue")
		}
		if r := b.post(t, sales, path, url.Values{"outcome": {"again"}}); r.StatusCode != http.StatusConflict {
			t.Fatalf("completed twice: %d", r.StatusCode)
		}
	})
}

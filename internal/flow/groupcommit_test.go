package flow_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/segment"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// poison makes the database refuse one message id, as a real failure in
// the middle of a request's transaction.
func poison(t *testing.T, db *store.DB, messageID string) {
	t.Helper()
	ddl := []string{`CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.message_id = '` + messageID + `'
		BEGIN SELECT RAISE(ABORT, 'poisoned message'); END`}
	if db.Dialect == store.Postgres {
		ddl = []string{`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.message_id = '` + messageID + `' THEN RAISE EXCEPTION 'poisoned message'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison()`}
	}
	for _, q := range ddl {
		if _, err := db.Write.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
}

// Concurrent requests are committed together on SQLite (group commit):
// each is still all or nothing, a failing request fails alone, the others
// are stored completely, and a message sent in two requests is stored once.
func TestIngestConcurrentRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		at := b.now.Add(-time.Hour)
		poison(t, db, "poison")

		const requests, perRequest = 8, 30
		batches := make([][]segment.Message, requests)
		for r := range batches {
			for i := range perRequest {
				m := msg(leadflow.EventPage, "", "Pricing", at.Add(time.Duration(i)*time.Second), nil)
				m.AnonymousID = fmt.Sprintf("anon-%d", i%7) // visitors shared by every request
				m.MessageID = fmt.Sprintf("r%d-m%d", r, i)
				if i%10 == 9 {
					m = identify(fmt.Sprintf("user-%d", i%4), at.Add(time.Duration(i)*time.Second),
						map[string]any{"email": fmt.Sprintf("p%d@example.com", i%4), "company": "Acme"})
					m.AnonymousID = fmt.Sprintf("anon-%d", i%7)
					m.MessageID = fmt.Sprintf("r%d-m%d", r, i)
				}
				batches[r] = append(batches[r], m)
			}
		}
		// Request 1 repeats a message of request 0 (an SDK retry).
		batches[1][0].MessageID = batches[0][0].MessageID
		// Request 5 carries a message the database refuses.
		batches[5][perRequest/2].MessageID = "poison"

		// Hold the writer so that the requests queue up behind it and are
		// committed as groups once it is free.
		hold := make(chan struct{})
		held := make(chan struct{})
		var holdErr error
		go func() {
			holdErr = db.InTx(ctx, func(tx *store.Tx) error {
				if db.Dialect == store.SQLite {
					close(held)
					<-hold
				}
				return nil
			})
			if db.Dialect != store.SQLite {
				close(held)
			}
		}()
		<-held
		errs := make([]error, requests)
		var wg sync.WaitGroup
		for r := range batches {
			wg.Go(func() { errs[r] = b.flow.Ingest(ctx, b.key, batches[r]) })
		}
		time.Sleep(100 * time.Millisecond) // let them queue (not asserted on)
		if db.Dialect == store.SQLite {
			close(hold)
		}
		wg.Wait()
		if holdErr != nil {
			t.Fatal(holdErr)
		}
		for r, err := range errs {
			if (err != nil) != (r == 5) {
				t.Errorf("request %d: %v", r, err)
			}
		}
		n, err := db.CountEvents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64((requests-1)*perRequest - 1); n != want {
			t.Errorf("%d events stored, want %d (7 requests of %d, one message sent twice)", n, want, perRequest)
		}
		// Nothing of the failed request is left, and its retry without the
		// refused message stores it whole.
		batches[5][perRequest/2].MessageID = "r5-retry"
		if err := b.flow.Ingest(ctx, b.key, batches[5]); err != nil {
			t.Fatal(err)
		}
		if n2, _ := db.CountEvents(ctx); n2 != n+perRequest {
			t.Errorf("after the retry %d events, want %d", n2, n+perRequest)
		}
		// Every identified visitor's page views joined its lead.
		l := b.lead(t, "p1@example.com")
		events, err := db.EventsOfLead(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 0 || l.Company != "Acme" {
			t.Errorf("lead p1: %d events, company %q", len(events), l.Company)
		}
	})
}

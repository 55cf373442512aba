package flow

import (
	"context"
	"sync"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/segment"
)

// groupMaxEvents bounds the messages committed in one group transaction.
const groupMaxEvents = 5000

// ingestReq is one Ingest call: a request's messages from one source.
type ingestReq struct {
	source int64
	msgs   []segment.Message
	err    error
	// done receives true when the request is to lead the next group, or
	// false once its outcome (err) is known.
	done chan bool
}

// groupCommit commits concurrent Ingest calls together (SQLite, whose one
// writer serialises them anyway): one transaction, one fsync and one WAL
// write of each shared page for several requests. A request that waits
// while another group is written is taken into the next group; the request
// that leads a group runs its transaction, hands each request its outcome,
// and passes the lead to the first request still waiting. If a group's
// transaction fails, its requests are run again one by one, so a request
// whose messages fail does not fail the others: each stays all or nothing.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*ingestReq
	leading bool
}

func (g *groupCommit) ingest(ctx context.Context, f *Flow, r *ingestReq) error {
	r.done = make(chan bool, 1)
	g.mu.Lock()
	g.queue = append(g.queue, r)
	if g.leading {
		g.mu.Unlock()
		// Wait whatever ctx says: the lead may be handed to r, and the
		// group's transaction does not stop for one client.
		if lead := <-r.done; !lead {
			return r.err
		}
	} else {
		g.leading = true
		g.mu.Unlock()
	}
	// r leads: it is first in the queue.
	g.mu.Lock()
	n, events := 0, 0
	for n < len(g.queue) && (n == 0 || events+len(g.queue[n].msgs) <= groupMaxEvents) {
		events += len(g.queue[n].msgs)
		n++
	}
	group := append([]*ingestReq(nil), g.queue[:n]...)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	g.mu.Unlock()

	defer func() {
		// Whatever happens (even a panic in the transaction), every request
		// of the group gets an outcome and the lead moves on.
		p := recover()
		if p != nil {
			for _, o := range group {
				if o.err == nil {
					o.err = leadflow.Errorf(leadflow.EINTERNAL, "ingestion failed")
				}
			}
		}
		g.mu.Lock()
		if len(g.queue) > 0 {
			g.queue[0].done <- true
		} else {
			g.leading = false
		}
		g.mu.Unlock()
		for _, o := range group {
			if o != r {
				o.done <- false
			}
		}
		if p != nil {
			panic(p)
		}
	}()
	f.commitGroup(context.WithoutCancel(ctx), group)
	return r.err
}

// commitGroup runs the group in one transaction, or each request in its own
// when that fails, and sets every request's err.
func (f *Flow) commitGroup(ctx context.Context, group []*ingestReq) {
	err := f.ingestTx(ctx, group)
	if err == nil || len(group) == 1 {
		for _, r := range group {
			r.err = err
		}
		return
	}
	for _, r := range group {
		r.err = f.ingestTx(ctx, []*ingestReq{r})
	}
}

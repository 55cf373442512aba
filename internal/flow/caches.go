package flow

import (
	"github.com/leadflow/leadflow/internal/nurture"
	"github.com/leadflow/leadflow/internal/sla"
)

// caches are a flow's memoized parsed documents. Each is a pure cache
// (stored document in, immutable compiled value out); they live in the
// Flow value, not the package, so two flows on two databases (tests, a
// CLI command next to a server) never see each other's documents. Their
// zero values are ready.
type caches struct {
	// sla: the SLA settings by document text (flow/sla.go).
	sla sla.Cache
	// routing: the routing rules by document text (assign.go).
	routing rulesCache
	// nurture: the compiled nurture sequences by the sequences' stamp
	// (nurture.go); shared with the flow's own nurture hooks only.
	nurture nurture.Cache
}

// NurtureSequences returns the flow's compiled sequence cache, for a
// nurture service on the same database to share
// (nurture.New(db, f.NurtureSequences(), …)); nil for a nil flow (the
// service then keeps its own).
func (f *Flow) NurtureSequences() *nurture.Cache {
	if f == nil {
		return nil
	}
	return &f.caches.nurture
}

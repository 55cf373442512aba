package lifecycle

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/leadflow/leadflow"
)

// Reason is one configured rejection (or disqualification) reason: sales
// picks from this list, marketing reads the counts.
type Reason struct {
	ID string `json:"id" yaml:"id"`
	JA string `json:"ja" yaml:"ja"`
	EN string `json:"en" yaml:"en"`
}

// DefaultReasons are used until an admin configures the list.
var DefaultReasons = []Reason{
	{"not-a-fit", "ターゲット外", "Not a fit"},
	{"no-budget", "予算なし", "No budget"},
	{"no-timing", "導入時期が未定・先", "No near-term timing"},
	{"no-authority", "決裁者に届かない", "No access to the decision maker"},
	{"unreachable", "連絡がつかない", "Unreachable"},
	{"competitor", "競合・同業", "Competitor"},
	{"student", "学生・個人", "Student or individual"},
	{"duplicate", "重複", "Duplicate"},
	{"other", "その他", "Other"},
}

// ParseReasons reads a reasons document:
//
//	reasons:
//	  - {id: no-budget, ja: 予算なし, en: No budget}
func ParseReasons(src []byte) ([]Reason, error) {
	var doc struct {
		Reasons []Reason `yaml:"reasons"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(src), yaml.DisallowUnknownField())
	if err := dec.Decode(&doc); err != nil {
		return nil, &leadflow.Error{Code: leadflow.EINVALID, Message: "rejection reasons are invalid",
			Details: []leadflow.Detail{{Where: "reasons", Message: yaml.FormatError(err, false, true)}}}
	}
	if len(doc.Reasons) == 0 {
		return nil, leadflow.Invalidf("reasons", "give at least one reason")
	}
	seen := map[string]bool{}
	for i, r := range doc.Reasons {
		where := fmt.Sprintf("reasons[%d]", i)
		if strings.TrimSpace(r.ID) == "" {
			return nil, leadflow.Invalidf(where+".id", "a reason needs an id")
		}
		if seen[r.ID] {
			return nil, leadflow.Invalidf(where+".id", "duplicate reason id %q", r.ID)
		}
		seen[r.ID] = true
		if r.JA == "" && r.EN == "" {
			return nil, leadflow.Invalidf(where, "reason %q needs a label (ja or en)", r.ID)
		}
	}
	return doc.Reasons, nil
}

// FindReason returns the reason with the id, or an EINVALID error listing
// the configured ids.
func FindReason(reasons []Reason, id string) (Reason, error) {
	ids := make([]string, len(reasons))
	for i, r := range reasons {
		if r.ID == id {
			return r, nil
		}
		ids[i] = r.ID
	}
	return Reason{}, leadflow.Invalidf("reason", "unknown reason %q: use one of %s", id, strings.Join(ids, ", "))
}

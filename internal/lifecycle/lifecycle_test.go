package lifecycle_test

import (
	"fmt"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/lifecycle"
	"github.com/leadflow/leadflow/internal/scoring"
)

// set builds a StageSet of a model with mql, sql and hql rules (no sal);
// the listed stages hold.
func set(hold ...leadflow.Stage) scoring.StageSet {
	s := scoring.StageSet{leadflow.StageMQL: false, leadflow.StageSQL: false, leadflow.StageHQL: false}
	for _, h := range hold {
		s[h] = true
	}
	return s
}

func TestAdvance(t *testing.T) {
	t.Parallel()
	const (
		lead, mql, sal, sql, hql = leadflow.StageLead, leadflow.StageMQL, leadflow.StageSAL, leadflow.StageSQL, leadflow.StageHQL
		recycled, disq           = leadflow.StageRecycled, leadflow.StageDisqualified
		opp, customer            = leadflow.StageOpportunity, leadflow.StageCustomer
	)
	withSAL := func(hold ...leadflow.Stage) scoring.StageSet {
		s := set(hold...)
		s[sal] = false
		for _, h := range hold {
			s[h] = true
		}
		return s
	}
	tests := []struct {
		name    string
		current leadflow.Stage
		holds   scoring.StageSet
		want    leadflow.Stage
		ok      bool
	}{
		{"50 points makes an MQL", lead, set(mql), mql, true},
		{"nothing holds", lead, set(), "", false},
		{"inquiry jumps to sql", lead, set(sql), sql, true},
		{"inquiry with score jumps to sql", lead, set(mql, sql), sql, true},
		{"inquiry with BANT known jumps to hql", lead, set(mql, sql, hql), hql, true},
		{"BANT complete makes an HQL from mql", mql, set(mql, hql), hql, true},
		{"recycled lead qualifies again", recycled, set(mql), mql, true},
		{"mql stays mql", mql, set(mql), "", false},
		{"never backwards", sql, set(mql), "", false},
		{"hql stays", hql, set(mql, sql, hql), "", false},
		{"never out of disqualified", disq, set(mql, sql, hql), "", false},
		{"never out of opportunity", opp, set(hql), "", false},
		{"never out of customer", customer, set(hql), "", false},
		{"sal when the model defines it", mql, withSAL(mql, sal), sal, true},
		{"sal rule false", mql, withSAL(mql), "", false},
		{"sql from sal", sal, withSAL(mql, sql), sql, true},
		{"nil set", lead, nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			to, rule, ok := lifecycle.Advance(tt.current, tt.holds)
			if to != tt.want || ok != tt.ok {
				t.Fatalf("Advance(%s, %v) = %q, %v; want %q, %v", tt.current, tt.holds, to, ok, tt.want, tt.ok)
			}
			if ok && rule != string(to) {
				t.Errorf("rule = %q, want %q", rule, to)
			}
			if ok {
				if err := lifecycle.CanMove(tt.current, to, false); err != nil {
					t.Errorf("CanMove refuses Advance's move: %v", err)
				}
			}
		})
	}
}

func TestCanMove(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to leadflow.Stage
		manual   bool
		code     string // "" = allowed
	}{
		{"lead", "mql", false, ""},
		{"lead", "hql", false, ""},
		{"recycled", "sql", false, ""},
		{"mql", "lead", false, leadflow.ECONFLICT},
		{"sql", "mql", false, leadflow.ECONFLICT},
		{"mql", "recycled", false, leadflow.ECONFLICT},
		{"mql", "opportunity", false, leadflow.ECONFLICT},
		{"disqualified", "mql", false, leadflow.ECONFLICT},
		{"customer", "hql", false, leadflow.ECONFLICT},
		{"hql", "hql", false, leadflow.ECONFLICT},
		{"mql", "sal", true, ""},
		{"sql", "opportunity", true, ""},
		{"opportunity", "customer", true, ""},
		{"lead", "customer", true, ""},
		{"sql", "recycled", true, ""},
		{"customer", "recycled", true, ""},
		{"mql", "disqualified", true, ""},
		{"disqualified", "recycled", true, ""},
		{"recycled", "mql", true, ""},
		{"sql", "mql", true, leadflow.ECONFLICT},
		{"customer", "opportunity", true, leadflow.ECONFLICT},
		{"recycled", "lead", true, leadflow.ECONFLICT},
		{"recycled", "recycled", true, leadflow.ECONFLICT},
		{"lead", "won", true, leadflow.EINVALID},
		{"", "mql", true, leadflow.EINVALID},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s_to_%s_manual_%v", tt.from, tt.to, tt.manual), func(t *testing.T) {
			t.Parallel()
			err := lifecycle.CanMove(tt.from, tt.to, tt.manual)
			if got := leadflow.ErrorCode(err); got != tt.code {
				t.Fatalf("CanMove(%s, %s, %v) = %v (code %q), want code %q", tt.from, tt.to, tt.manual, err, got, tt.code)
			}
			if err != nil && leadflow.ErrorMessage(err) == "" {
				t.Error("error without a message")
			}
		})
	}
}

func ExampleAdvance() {
	m := scoring.MustCompile("default.yaml", scoring.DefaultModel)
	// A demo request makes the sql rule hold at once.
	holds := scoring.StageSet{leadflow.StageMQL: false, leadflow.StageSQL: true, leadflow.StageHQL: false}
	to, rule, ok := lifecycle.Advance(leadflow.StageLead, holds)
	fmt.Println(to, rule, ok, m.Defines(leadflow.StageSAL))
	// Output: sql sql true false
}

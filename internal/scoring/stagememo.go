package scoring

import (
	"encoding/binary"
	"math"
	"slices"
	"time"

	"github.com/leadflow/leadflow"
)

// stageMemo remembers the stage rules' outcome per distinct (score,
// fit_score, behavior_score, lead fields the rules read): a rescore of a
// million leads evaluates `score >= 50` once per distinct score.
type stageMemo struct {
	init    bool
	keyers  []keyer
	memo    bool
	m       map[string]uint8 // key -> bit i set when rule i holds
	sets    [1 << len(ruleStages)]StageSet
	lookups int
	hits    int
	paused  int
	ev      leadflow.Event
	buf     []byte
}

func (sm *stageMemo) setup(m *Model) {
	sm.init, sm.memo = true, true
	sm.m = map[string]uint8{}
	var rs []*rule
	for _, r := range m.stages {
		if r != nil {
			rs = append(rs, r)
		}
	}
	// One group of all stage rules: the union of the fields they read.
	seen := map[string]bool{}
	for _, r := range rs {
		rf := ruleRefs(r)
		if rf.whole {
			sm.memo = false
			return
		}
		for k, segs := range rf.paths {
			if seen[k] {
				continue
			}
			seen[k] = true
			kr, ok := newKeyer(segs)
			if !ok {
				sm.memo = false
				return
			}
			sm.keyers = append(sm.keyers, kr)
		}
	}
}

// Stages is Model.Stages for a rescore (no triggering event), memoized.
// The returned set is shared: callers must not modify it.
func (mt *Matcher) Stages(lead *leadflow.Lead, r Result, now time.Time) StageSet {
	sm := &mt.stages
	if !sm.init {
		sm.setup(mt.m)
	}
	if !sm.memo {
		return mt.m.Stages(lead, r, nil, now)
	}
	if sm.paused > 0 {
		sm.paused--
		return mt.m.Stages(lead, r, nil, now)
	}
	buf := sm.buf[:0]
	for _, x := range [3]float64{r.Score, r.Fit, r.Behavior} {
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
	}
	sm.ev.Timestamp = now // lead.bant.timeline_days counts from now
	ok := true
	for _, k := range sm.keyers {
		if buf, ok = k(buf, lead, &sm.ev); !ok {
			break
		}
	}
	sm.buf = buf
	if !ok {
		return mt.m.Stages(lead, r, nil, now)
	}
	sm.lookups++
	bitsSet, hit := sm.m[string(buf)]
	if hit {
		sm.hits++
	} else {
		set := mt.m.Stages(lead, r, nil, now)
		for i, s := range ruleStages {
			if set[s] {
				bitsSet |= 1 << i
			}
		}
		if len(sm.m) >= maxMemoEntries {
			clear(sm.m)
		}
		sm.m[string(buf)] = bitsSet
	}
	if sm.lookups == memoProbe {
		if sm.hits < memoProbe/4 {
			sm.paused = memoPause
			clear(sm.m)
		}
		sm.lookups, sm.hits = 0, 0
	}
	if sm.sets[bitsSet] == nil {
		set := StageSet{}
		for i, s := range ruleStages {
			if mt.m.stages[i] != nil {
				set[s] = bitsSet&(1<<i) != 0
			}
		}
		sm.sets[bitsSet] = set
	}
	return sm.sets[bitsSet]
}

// LeadFields returns the top-level fields of `lead` any rule of the model
// reads (fit, behavior, stage and expiry rules), sorted, so storage can
// skip decoding the rest; all is true when a rule reads `lead` as a whole
// or through a computed key.
func (m *Model) LeadFields() (fields []string, all bool) {
	rs := append(append([]*rule(nil), m.fit...), m.behavior...)
	for _, r := range m.stages {
		if r != nil {
			rs = append(rs, r)
		}
	}
	for _, x := range m.expiry {
		rs = append(rs, x.rule)
	}
	set := map[string]bool{}
	for _, r := range rs {
		rf := ruleRefs(r)
		if rf.whole {
			return nil, true
		}
		for _, segs := range rf.paths {
			if segs[0] == "lead" {
				set[segs[1]] = true
			}
		}
	}
	for f := range set {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	return fields, false
}

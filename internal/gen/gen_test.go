package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
)

var testEnd = time.Date(2025, 3, 31, 23, 59, 59, 500, time.UTC)

// collect runs Generate and returns copies of every record.
func collect(t *testing.T, cfg Config) []Record {
	t.Helper()
	var out []Record
	err := Generate(cfg, func(rec *Record) error {
		c := *rec
		c.Events = slices.Clone(rec.Events)
		c.Lead.ExternalIDs = slices.Clone(rec.Lead.ExternalIDs)
		c.Lead.AnonymousIDs = slices.Clone(rec.Lead.AnonymousIDs)
		c.Outcome = copyOutcome(rec.Outcome)
		out = append(out, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func copyOutcome(o Outcome) Outcome {
	cp := func(p *time.Time) *time.Time {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	o.MQLAt, o.SQLAt, o.OpportunityAt, o.WonAt, o.LostAt = cp(o.MQLAt), cp(o.SQLAt), cp(o.OpportunityAt), cp(o.WonAt), cp(o.LostAt)
	o.BANT.Timeline = cp(o.BANT.Timeline)
	return o
}

func hashRun(t *testing.T, cfg Config) string {
	t.Helper()
	h := sha256.New()
	enc := json.NewEncoder(h)
	err := Generate(cfg, func(rec *Record) error { return enc.Encode(rec) })
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	cfg := Config{Leads: 1000, Events: 20000, End: testEnd, Seed: 42}
	a, b := hashRun(t, cfg), hashRun(t, cfg)
	if a != b {
		t.Fatalf("two runs differ: %s != %s", a, b)
	}
	cfg.Seed = 43
	if c := hashRun(t, cfg); c == a {
		t.Fatal("a different seed gave the same history")
	}
}

func TestGenerateEventCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		leads, events int
		checkShape    bool
	}{
		{"benchmark shape", 20000, 400000, true},
		{"demo", 3000, 60000, true},
		{"fewer events than leads", 100, 30, false},
		{"events per lead high", 50, 100000, false},
		{"default events", 500, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var counts []int
			total := 0
			err := Generate(Config{Leads: tt.leads, Events: tt.events, End: testEnd, Seed: 1}, func(rec *Record) error {
				counts = append(counts, len(rec.Events))
				total += len(rec.Events)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := tt.events
			if want == 0 {
				want = tt.leads * DefaultEventsPerLead
			}
			if len(counts) != tt.leads {
				t.Fatalf("got %d leads, want %d", len(counts), tt.leads)
			}
			if d := float64(total-want) / float64(want); d < -0.02 || d > 0.02 {
				t.Fatalf("total events %d, want %d ±2%%", total, want)
			}
			if !tt.checkShape {
				return
			}
			slices.Sort(counts)
			median, maxN := counts[len(counts)/2], counts[len(counts)-1]
			if median < 3 || median > 6 {
				t.Errorf("median events per lead %d, want 3..6", median)
			}
			if maxN < 100*median {
				t.Errorf("max events per lead %d, want a heavy tail (≥ 100× median %d)", maxN, median)
			}
		})
	}
}

func TestGenerateOutcomeRates(t *testing.T) {
	t.Parallel()
	for _, threshold := range []float64{60, 45} {
		var above, aboveSQL, below, belowSQL, sql, opp, won, lost int
		err := Generate(Config{Leads: 20000, Events: 400000, End: testEnd, Seed: 9, HiddenThreshold: threshold},
			func(rec *Record) error {
				o := rec.Outcome
				if o.TrueScore >= threshold {
					above++
					if o.SQLAt != nil {
						aboveSQL++
					}
				} else {
					below++
					if o.SQLAt != nil {
						belowSQL++
					}
				}
				if o.SQLAt != nil && o.SQLAt.Before(testEnd.Add(-120*24*time.Hour)) {
					sql++ // old enough for the deal to have closed
					if o.OpportunityAt != nil {
						opp++
					}
					if o.WonAt != nil {
						won++
					}
					if o.LostAt != nil {
						lost++
					}
				}
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		rate := func(n, d int) float64 { return float64(n) / float64(d) }
		if rate(above, above+below) < 0.05 {
			t.Errorf("threshold %v: only %d of %d leads above", threshold, above, above+below)
		}
		if r := rate(aboveSQL, above); r < 0.5 || r > 0.7 {
			t.Errorf("threshold %v: SQL rate above = %.3f, want ~0.60", threshold, r)
		}
		if r := rate(belowSQL, below); r < 0.03 || r > 0.07 {
			t.Errorf("threshold %v: SQL rate below = %.3f, want ~0.05", threshold, r)
		}
		if r := rate(opp, sql); r < 0.4 || r > 0.6 {
			t.Errorf("threshold %v: opportunity rate of SQL = %.3f, want ~0.5", threshold, r)
		}
		if r := rate(won, won+lost); r < 0.25 || r > 0.45 {
			t.Errorf("threshold %v: win rate = %.3f, want ~0.35", threshold, r)
		}
	}
}

func TestGenerateTimes(t *testing.T) {
	t.Parallel()
	cfg := Config{Leads: 5000, Events: 100000, Days: 200, End: testEnd, Seed: 5}
	start := testEnd.Add(-200 * 24 * time.Hour)
	in := func(tm time.Time) bool { return !tm.Before(start) && !tm.After(testEnd) }
	business, events := 0, 0
	var lastID int64
	err := Generate(cfg, func(rec *Record) error {
		l := rec.Lead
		if !in(l.CreatedAt) || !in(l.UpdatedAt) || l.UpdatedAt.Before(l.CreatedAt) {
			t.Fatalf("lead %d: created %v, updated %v outside [%v, %v]", l.ID, l.CreatedAt, l.UpdatedAt, start, testEnd)
		}
		for i, e := range rec.Events {
			events++
			if !in(e.Timestamp) || !in(e.ReceivedAt) || e.ReceivedAt.Before(e.Timestamp) {
				t.Fatalf("lead %d event %d: at %v received %v", l.ID, i, e.Timestamp, e.ReceivedAt)
			}
			if i > 0 && e.Timestamp.Before(rec.Events[i-1].Timestamp) {
				t.Fatalf("lead %d: events out of order at %d", l.ID, i)
			}
			if e.ID != lastID+1 || e.LeadID != l.ID {
				t.Fatalf("lead %d: event id %d after %d, lead id %d", l.ID, e.ID, lastID, e.LeadID)
			}
			lastID = e.ID
			if local := e.Timestamp.In(jst); local.Hour() >= 9 && local.Hour() < 19 &&
				local.Weekday() != time.Saturday && local.Weekday() != time.Sunday {
				business++
			}
		}
		o := rec.Outcome
		prev := l.CreatedAt
		for _, p := range []*time.Time{o.MQLAt, o.SQLAt, o.OpportunityAt} {
			if p == nil {
				continue
			}
			if !in(*p) || p.Before(prev) {
				t.Fatalf("lead %d: outcome out of order or window: %+v", l.ID, o)
			}
			prev = *p
		}
		for _, p := range []*time.Time{o.WonAt, o.LostAt} {
			if p != nil && (o.OpportunityAt == nil || !in(*p) || p.Before(*o.OpportunityAt)) {
				t.Fatalf("lead %d: close without opportunity or out of window: %+v", l.ID, o)
			}
		}
		if (o.WonAt != nil) != (o.Amount > 0) || o.WonAt != nil && o.LostAt != nil {
			t.Fatalf("lead %d: won %v lost %v amount %v", l.ID, o.WonAt, o.LostAt, o.Amount)
		}
		if o.SQLAt == nil && o.OpportunityAt != nil || o.SQLAt != nil && (o.MQLAt == nil || !o.BANT.Need) {
			t.Fatalf("lead %d: inconsistent funnel %+v", l.ID, o)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if share := float64(business) / float64(events); share < 0.7 {
		t.Errorf("%.2f of events in weekday business hours (JST), want most", share)
	}
}

func TestGenerateUnique(t *testing.T) {
	t.Parallel()
	// More leads than company name combinations, so domains repeat names.
	recs := collect(t, Config{Leads: 12000, Events: 60000, End: testEnd, Seed: 11})
	seen := map[string]string{}
	unique := func(kind, v string) {
		if v == "" {
			t.Fatalf("empty %s", kind)
		}
		if prev, ok := seen[v]; ok {
			t.Fatalf("%s %q repeated (first as %s)", kind, v, prev)
		}
		seen[v] = kind
	}
	free := 0
	for _, r := range recs {
		l := r.Lead
		unique("email", l.Email)
		unique("anonymous id", l.AnonymousIDs[0])
		unique("external id", l.ExternalIDs[0])
		if strings.Contains(l.Email, "gmail.com") || strings.Contains(l.Email, "yahoo.co.jp") {
			free++
		}
		for _, e := range r.Events {
			unique("message id", e.MessageID)
			if e.AnonymousID == "" && e.UserID == "" {
				t.Fatalf("lead %d: event %d has neither anonymous nor user id", l.ID, e.ID)
			}
			if e.AnonymousID != "" && e.AnonymousID != l.AnonymousIDs[0] || e.UserID != "" && e.UserID != l.ExternalIDs[0] {
				t.Fatalf("lead %d: event %d ids do not match the lead", l.ID, e.ID)
			}
		}
	}
	if share := float64(free) / float64(len(recs)); share < 0.08 || share > 0.22 {
		t.Errorf("gmail/yahoo share %.2f, want ~0.15", share)
	}
}

func TestGenerateRealism(t *testing.T) {
	t.Parallel()
	industries, names, sources := map[string]int{}, map[string]int{}, map[string]int{}
	paths := map[string]bool{}
	jp, withCampaign, events := 0, 0, 0
	err := Generate(DemoConfig(testEnd), func(rec *Record) error {
		l := rec.Lead
		industries[l.Industry]++
		sources[l.FirstTouch.Source]++
		if l.Country == "JP" && l.Region != "" {
			jp++
		}
		if l.Employees < 5 || l.Employees > 50000 || l.Company == "" || l.Name == "" {
			t.Fatalf("lead %d: %+v", l.ID, l)
		}
		for _, e := range rec.Events {
			events++
			if !e.Type.Valid() || e.Properties == nil || e.Context == nil || e.MessageID == "" {
				t.Fatalf("bad event %+v", e)
			}
			if e.Type == leadflow.EventPage {
				paths[e.Properties["path"].(string)] = true
			} else {
				names[e.Name]++
			}
			if _, ok := e.Context["campaign"]; ok {
				withCampaign++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ind := range []string{IndustryManufacturing, IndustryIT, IndustryFinance, IndustryRetail,
		IndustryHealthcare, IndustryEducation, IndustryGovernment, IndustryOther} {
		if industries[ind] == 0 {
			t.Errorf("no %s leads", ind)
		}
	}
	for _, n := range []string{"Document Downloaded", "Webinar Attended", "Seminar Attended", "Email Opened",
		"Email Link Clicked", "Unsubscribed", "Demo Requested", "Contact Sales", "Quote Requested"} {
		if names[n] == 0 {
			t.Errorf("no %q events in the demo", n)
		}
	}
	for _, p := range []string{"/", "/pricing", "/product/scoring", "/blog/bant", "/case-studies/it"} {
		if !paths[p] {
			t.Errorf("no page views of %s", p)
		}
	}
	if jp < 2700 || len(sources) < 8 || withCampaign == 0 || events != 60000 {
		t.Errorf("jp %d, sources %v, events with a campaign %d, events %d", jp, sources, withCampaign, events)
	}
}

func TestGenerateConfig(t *testing.T) {
	t.Parallel()
	nop := func(*Record) error { return nil }
	if err := Generate(Config{Leads: 1}, nop); leadflow.ErrorCode(err) != leadflow.EINVALID {
		t.Errorf("zero End: got %v, want an invalid error", err)
	}
	if err := Generate(Config{Leads: -1, End: testEnd}, nop); leadflow.ErrorCode(err) != leadflow.EINVALID {
		t.Errorf("negative leads: got %v, want an invalid error", err)
	}
	if err := Generate(Config{End: testEnd}, nop); err != nil {
		t.Errorf("no leads: %v", err)
	}
	stop := errors.New("stop")
	calls := 0
	err := Generate(Config{Leads: 10, End: testEnd}, func(*Record) error {
		if calls++; calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("emit error: got %v after %d calls", err, calls)
	}
	if d := DemoConfig(testEnd); d.Leads != 3000 || d.Events != 60000 || d.Days != 365 || !d.End.Equal(testEnd) {
		t.Errorf("DemoConfig = %+v", d)
	}
}

package scoring_test

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/lifecycle"
	"github.com/leadflow/leadflow/internal/scoring"
)

var (
	t0  = time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC)
	day = 24 * time.Hour
)

// bundle is a compiled default model with a matcher.
type bundle struct {
	m  *scoring.Model
	mt *scoring.Matcher
}

func setup(t testing.TB) bundle {
	t.Helper()
	m, err := scoring.Compile("default.yaml", scoring.DefaultModel)
	if err != nil {
		t.Fatal(err)
	}
	return bundle{m: m, mt: m.NewMatcher()}
}

func page(id int64, path string, at time.Time) *leadflow.Event {
	return &leadflow.Event{ID: id, Type: leadflow.EventPage, Properties: map[string]any{"path": path}, Timestamp: at}
}

func track(id int64, name string, at time.Time) *leadflow.Event {
	return &leadflow.Event{ID: id, Type: leadflow.EventTrack, Name: name, Timestamp: at}
}

// score matches events for lead and scores as of now.
func (b bundle) score(lead *leadflow.Lead, now time.Time, evs ...*leadflow.Event) scoring.Result {
	var hits []scoring.Hit
	for _, ev := range evs {
		hits = b.mt.Match(lead, ev, hits)
	}
	return b.m.Score(b.m.Fit(lead, now), hits, now)
}

// advance is the qualify step of the flow: score, stage rules, Advance.
func (b bundle) advance(lead *leadflow.Lead, r scoring.Result, ev *leadflow.Event, now time.Time) leadflow.Stage {
	to, _, ok := lifecycle.Advance(lead.Stage, b.m.Stages(lead, r, ev, now))
	if !ok {
		return lead.Stage
	}
	return to
}

func TestArticleScenarios(t *testing.T) {
	t.Parallel()
	soon := t0.Add(20 * day)
	later := t0.Add(45 * day)
	// fit 10: target industry only.
	smallIT := func() *leadflow.Lead {
		return &leadflow.Lead{Email: "k@example.co.jp", Industry: "it", Employees: 20, Stage: leadflow.StageLead}
	}
	tests := []struct {
		name      string
		lead      *leadflow.Lead
		events    []*leadflow.Event
		trigger   *leadflow.Event // the event being handled, for stage rules
		score     float64
		behavior  float64
		wantStage leadflow.Stage
	}{
		{name: "40 points is not yet an MQL", lead: smallIT(),
			events: []*leadflow.Event{page(1, "/pricing", t0), track(2, "Webinar Attended", t0)},
			score:  40, behavior: 30, wantStage: leadflow.StageLead},
		{name: "reaching 50 points makes an MQL", lead: smallIT(),
			events: []*leadflow.Event{page(1, "/pricing", t0), track(2, "Webinar Attended", t0), page(3, "/pricing/enterprise", t0)},
			score:  50, behavior: 40, wantStage: leadflow.StageMQL},
		{name: "behavior three months old counts half", lead: smallIT(),
			events: []*leadflow.Event{track(1, "Document Downloaded", t0.Add(-100*day)), track(2, "Seminar Attended", t0.Add(-91*day))},
			score:  10 + 7.5 + 10, behavior: 17.5, wantStage: leadflow.StageLead},
		{name: "behavior six months old no longer counts", lead: smallIT(),
			events: []*leadflow.Event{track(1, "Document Downloaded", t0.Add(-181*day)), track(2, "Document Downloaded", t0.Add(-90*day))},
			score:  10 + 15, behavior: 15, wantStage: leadflow.StageLead},
		{name: "demo request makes an SQL at once", lead: smallIT(),
			trigger: track(1, "Demo Requested", t0),
			score:   10, wantStage: leadflow.StageSQL},
		{name: "contact sales makes an SQL at once", lead: &leadflow.Lead{Stage: leadflow.StageRecycled},
			trigger: track(1, "Contact Sales", t0),
			score:   0, wantStage: leadflow.StageSQL},
		{name: "BANT complete with timeline within 30 days makes an HQL",
			lead:  &leadflow.Lead{Industry: "it", Stage: leadflow.StageMQL, BANT: leadflow.BANT{Budget: true, Authority: true, Need: true, Timeline: &soon}},
			score: 10, wantStage: leadflow.StageHQL},
		{name: "BANT with timeline in 45 days is not an HQL",
			lead:  &leadflow.Lead{Industry: "it", Stage: leadflow.StageMQL, BANT: leadflow.BANT{Budget: true, Authority: true, Need: true, Timeline: &later}},
			score: 10, wantStage: leadflow.StageMQL},
		{name: "BANT without a timeline is not an HQL",
			lead:  &leadflow.Lead{Industry: "it", Stage: leadflow.StageMQL, BANT: leadflow.BANT{Budget: true, Authority: true, Need: true}},
			score: 10, wantStage: leadflow.StageMQL},
		{name: "inquiry with BANT known goes to HQL",
			lead:    &leadflow.Lead{Stage: leadflow.StageLead, BANT: leadflow.BANT{Budget: true, Authority: true, Need: true, Timeline: &soon}},
			trigger: track(1, "Quote Requested", t0), score: 0, wantStage: leadflow.StageHQL},
		{name: "unsubscribe lowers the score", lead: smallIT(),
			events: []*leadflow.Event{page(1, "/pricing", t0), track(2, "Webinar Attended", t0), page(3, "/pricing", t0), track(4, "Unsubscribed", t0)},
			score:  30, behavior: 20, wantStage: leadflow.StageLead},
		{name: "a cap stops repeated page views", lead: smallIT(),
			events: []*leadflow.Event{page(1, "/pricing", t0), page(2, "/pricing", t0), page(3, "/pricing", t0), page(4, "/pricing", t0), page(5, "/pricing", t0), page(6, "/pricing", t0)},
			score:  40, behavior: 30, wantStage: leadflow.StageLead},
		{name: "free mail and a decision maker", lead: &leadflow.Lead{Email: "x@gmail.com", Title: "Marketing Director", Employees: 500, Stage: leadflow.StageLead},
			score: -10 + 20 + 15, wantStage: leadflow.StageLead},
		{name: "customers stay customers", lead: &leadflow.Lead{Stage: leadflow.StageCustomer},
			trigger: track(1, "Demo Requested", t0), score: 0, wantStage: leadflow.StageCustomer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			evs := tt.events
			if tt.trigger != nil {
				evs = append(evs, tt.trigger)
			}
			r := b.score(tt.lead, t0, evs...)
			if r.Score != tt.score || r.Behavior != tt.behavior || r.Score != r.Fit+r.Behavior {
				t.Errorf("score %v (fit %v, behavior %v), want %v (behavior %v)\n%s", r.Score, r.Fit, r.Behavior, tt.score, tt.behavior, r.Explanation)
			}
			if got := b.advance(tt.lead, r, tt.trigger, t0); got != tt.wantStage {
				t.Errorf("stage %s, want %s (stages %v)", got, tt.wantStage, b.m.Stages(tt.lead, r, tt.trigger, t0))
			}
		})
	}
}

func TestScoreExplanation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	lead := &leadflow.Lead{Industry: "it", Employees: 300, Stage: leadflow.StageLead}
	var evs []*leadflow.Event
	for i := range 4 {
		evs = append(evs, page(int64(i+1), "/pricing", t0.Add(-time.Duration(i)*day)))
	}
	evs = append(evs, track(9, "Document Downloaded", t0.Add(-100*day)))
	r := b.score(lead, t0, evs...)
	r.Explanation.NextStage = b.m.NextStage(lead.Stage, r.Score)
	if r.Score != 62.5 || r.Fit != 25 || r.Behavior != 37.5 {
		t.Fatalf("score %+v", r)
	}
	data, err := json.Marshal(r.Explanation)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"score", "fit_score", "behavior_score", "as_of", "fit", "behavior", "next_stage"} {
		if _, ok := got[k]; !ok {
			t.Errorf("explanation JSON lacks %q: %s", k, data)
		}
	}
	pricing := r.Explanation.Behavior[0]
	if pricing.Rule != "pricing-page" || pricing.Points != 30 || pricing.RawPoints != 40 || !pricing.Capped ||
		*pricing.Max != 30 || pricing.EventCount != 4 || pricing.Events[0].EventID != 1 || pricing.Events[0].Name != "/pricing" {
		t.Errorf("pricing explanation %+v", pricing)
	}
	wp := r.Explanation.Behavior[1]
	if wp.Events[0].Factor != 0.5 || wp.Events[0].Weighted != 7.5 || wp.Capped {
		t.Errorf("whitepaper explanation %+v", wp)
	}
	ns := r.Explanation.NextStage
	if ns == nil || ns.Stage != "sql" || ns.Threshold != 70 || ns.PointsNeeded != 7.5 {
		t.Errorf("next stage %+v", ns)
	}
	if ns := b.m.NextStage(leadflow.StageLead, 12.5); ns.Stage != "mql" || ns.PointsNeeded != 37.5 {
		t.Errorf("NextStage(lead, 12.5) = %+v", ns)
	}
	if ns := b.m.NextStage(leadflow.StageOpportunity, 0); ns != nil {
		t.Errorf("NextStage(opportunity) = %+v", ns)
	}
	en, ja := r.Explanation.String(), r.Explanation.Text("ja")
	for _, want := range []string{"Score 62.5 (fit 25 + behavior 37.5)", "+30  pricing-page  (4 events, 40, capped at 30)", "15 × 0.5 = 7.5", "Next stage: sql (70, 7.5 points needed)"} {
		if !strings.Contains(en, want) {
			t.Errorf("text lacks %q:\n%s", want, en)
		}
	}
	if !strings.Contains(ja, "スコア 62.5 (属性スコア 25 + 行動スコア 37.5)") || !strings.Contains(ja, "あと 7.5 点") {
		t.Errorf("ja text:\n%s", ja)
	}
	// The first change: the newest whitepaper crosses 180 days.
	if want := t0.Add(-100 * day).Add(180 * day).Add(time.Second); !r.NextChange.Equal(want) {
		t.Errorf("NextChange %v, want %v", r.NextChange, want)
	}
}

func TestHalfLife(t *testing.T) {
	t.Parallel()
	m := scoring.MustCompile("hl.yaml", []byte(`name: hl
behavior:
  - id: visit
    when: event.type == "page"
    points: 8
decay: {half_life: 30d}
stages:
  mql: score >= 50
`))
	mt := m.NewMatcher()
	var hits []scoring.Hit
	for i, age := range []time.Duration{0, 30 * day, 60 * day, 90 * day} {
		hits = mt.Match(nil, page(int64(i+1), "/", t0.Add(-age)), hits)
	}
	r := m.Score(nil, hits, t0)
	if r.Score != 8+4+2+1 {
		t.Errorf("score %v, want 15\n%s", r.Score, r.Explanation)
	}
	if r.NextChange.IsZero() || !r.NextChange.After(t0) {
		t.Fatalf("NextChange %v", r.NextChange)
	}
	// At NextChange the decayed total has lost about a point.
	r2 := m.Score(nil, hits, r.NextChange)
	if d := r.Score - r2.Score; d < 0.99 || d > 1.01 {
		t.Errorf("score fell by %v at NextChange, want 1", d)
	}
	if r := m.Score(nil, hits, t0.Add(100*365*day)); !r.NextChange.IsZero() || r.Score != 0 {
		t.Errorf("after a century: %v, NextChange %v", r.Score, r.NextChange)
	}
}

func TestNextChangeSteps(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hits := b.mt.Match(nil, track(1, "Document Downloaded", t0), nil)
	r := b.m.Score(nil, hits, t0)
	want := t0.Add(90*day + time.Second)
	if !r.NextChange.Equal(want) {
		t.Fatalf("NextChange %v, want %v", r.NextChange, want)
	}
	if s := b.m.Score(nil, hits, want.Add(-time.Second)).Score; s != 15 {
		t.Errorf("at exactly 90 days: %v, want 15", s)
	}
	r = b.m.Score(nil, hits, want)
	if r.Score != 7.5 || !r.NextChange.Equal(t0.Add(180*day+time.Second)) {
		t.Errorf("after 90 days: %v next %v", r.Score, r.NextChange)
	}
	if r = b.m.Score(nil, hits, t0.Add(181*day)); r.Score != 0 || !r.NextChange.IsZero() {
		t.Errorf("after 181 days: %v next %v", r.Score, r.NextChange)
	}
	if r = b.m.Score(nil, nil, t0); !r.NextChange.IsZero() {
		t.Errorf("no hits: next %v", r.NextChange)
	}
}

// randomHits returns hits over every behavior rule of the default model,
// with ages spread over the decay steps and some repeated event ids.
func randomHits(rng *rand.Rand, n int) []scoring.Hit {
	rules := []struct {
		id     string
		points float64
	}{{"pricing-page", 10}, {"whitepaper", 15}, {"seminar", 20}, {"email-click", 3}, {"unsubscribed", -20}}
	hits := make([]scoring.Hit, n)
	for i := range hits {
		r := rules[rng.IntN(len(rules))]
		hits[i] = scoring.Hit{Rule: r.id, EventID: int64(rng.IntN(n) + 1), EventName: "e", Points: r.points,
			At: t0.Add(-time.Duration(rng.IntN(200*24)) * time.Hour)}
	}
	return hits
}

func TestScoreOrderIndependent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rng := rand.New(rand.NewPCG(1, 2))
	fit := b.m.Fit(&leadflow.Lead{Industry: "it", Employees: 150, Title: "CTO", Email: "a@gmail.com"}, t0)
	for range 200 {
		hits := randomHits(rng, 1+rng.IntN(40))
		want := b.m.Score(fit, hits, t0)
		for range 5 {
			h := append([]scoring.Hit(nil), hits...)
			rng.Shuffle(len(h), func(i, j int) { h[i], h[j] = h[j], h[i] })
			f := append([]scoring.FitHit(nil), fit...)
			rng.Shuffle(len(f), func(i, j int) { f[i], f[j] = f[j], f[i] })
			if got := b.m.Score(f, h, t0); !reflect.DeepEqual(got, want) {
				t.Fatalf("score depends on order: %v vs %v", got.Score, want.Score)
			}
		}
	}
}

func TestReplayIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rng := rand.New(rand.NewPCG(3, 4))
	lead := &leadflow.Lead{Industry: "finance", Employees: 1000}
	var evs []*leadflow.Event
	names := []string{"Document Downloaded", "Webinar Attended", "Email Link Clicked", "Unsubscribed", "Other"}
	for i := range 300 {
		at := t0.Add(-time.Duration(rng.IntN(200*24)) * time.Hour)
		if rng.IntN(2) == 0 {
			evs = append(evs, page(int64(i+1), []string{"/pricing", "/blog", "/pricing/x"}[rng.IntN(3)], at))
		} else {
			evs = append(evs, track(int64(i+1), names[rng.IntN(len(names))], at))
		}
	}
	first := b.score(lead, t0, evs...)
	// Replaying with a fresh matcher, with a warm one, and counting every
	// hit twice (a retried event) all give the same result.
	second := bundle{m: b.m, mt: b.m.NewMatcher()}.score(lead, t0, evs...)
	third := b.score(lead, t0, evs...)
	var hits []scoring.Hit
	for _, ev := range evs {
		hits = b.mt.Match(lead, ev, hits)
	}
	doubled := b.m.Score(b.m.Fit(lead, t0), append(hits, hits...), t0)
	for i, r := range []scoring.Result{second, third, doubled} {
		if !reflect.DeepEqual(r, first) {
			t.Errorf("replay %d: %v, want %v", i, r.Score, first.Score)
		}
	}
}

func TestUnknownRulesIgnored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.m.Score([]scoring.FitHit{{Rule: "gone", Points: 99}, {Rule: "pricing-page", Points: 5}},
		[]scoring.Hit{{Rule: "gone", Points: 99, At: t0}, {Rule: "target-industry", Points: 10, At: t0}}, t0)
	if r.Score != 0 {
		t.Errorf("score %v, want 0", r.Score)
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mql := &leadflow.Lead{Stage: leadflow.StageMQL}
	low, high := scoring.Result{Score: 35}, scoring.Result{Score: 45}
	tests := []struct {
		name  string
		lead  *leadflow.Lead
		r     scoring.Result
		since time.Duration
		want  bool
	}{
		{"stale low MQL is recycled", mql, low, 31 * day, true},
		{"exactly 30 days", mql, low, 30 * day, true},
		{"too early", mql, low, 29 * day, false},
		{"score high enough", mql, high, 60 * day, false},
		{"other stage", &leadflow.Lead{Stage: leadflow.StageSQL}, low, 60 * day, false},
		{"nil lead", nil, low, 60 * day, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x, ok := b.m.Expiry(tt.lead, tt.r, t0.Add(-tt.since), t0)
			if ok != tt.want {
				t.Fatalf("Expiry = %+v, %v; want %v", x, ok, tt.want)
			}
			if ok && (x.Rule != "stale-mql" || x.To != leadflow.StageRecycled || x.Reason == "") {
				t.Errorf("Expiry = %+v", x)
			}
		})
	}
}

func TestStagesWithoutEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	set := b.m.Stages(&leadflow.Lead{}, scoring.Result{Score: 80}, nil, t0)
	want := scoring.StageSet{leadflow.StageMQL: true, leadflow.StageSQL: false, leadflow.StageHQL: false}
	if !reflect.DeepEqual(set, want) || !set.Defined(leadflow.StageSQL) || set.Defined(leadflow.StageSAL) {
		t.Errorf("Stages = %v, want %v", set, want)
	}
	if got := b.m.StageRule(leadflow.StageMQL); got != "score >= 50" {
		t.Errorf("StageRule(mql) = %q", got)
	}
	set = b.m.Stages(nil, scoring.Result{Score: 80}, nil, t0)
	if !set.Holds(leadflow.StageMQL) {
		t.Errorf("nil lead: %v", set)
	}
}

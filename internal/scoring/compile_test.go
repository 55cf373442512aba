package scoring

import (
	"errors"
	"strings"
	"testing"

	"github.com/leadflow/leadflow"
)

// problem is an expected detail: its location and a part of its message.
type wantProblem struct{ where, msg string }

func TestCompileInvalid(t *testing.T) {
	t.Parallel()
	const stages = "stages:\n  mql: score >= 50\n"
	tests := []struct {
		name string
		src  string
		want []wantProblem
	}{
		{"unknown top-level field", "name: x\n" + stages + "colour: red\n",
			[]wantProblem{{"4:1", `unknown field "colour"`}}},
		{"missing name and stages", "fit: []\n",
			[]wantProblem{{"1:1", `missing field "name"`}, {"1:1", `missing field "stages"`}}},
		{"missing mql", "name: x\nstages:\n  sql: score >= 70\n",
			[]wantProblem{{"3:3", `missing field "mql"`}}},
		{"unknown stage", "name: x\nstages:\n  mql: score >= 50\n  mgl: score >= 60\n",
			[]wantProblem{{"4:3", `unknown field "mgl"`}}},
		{"points wrong type", "name: x\nfit:\n  - id: a\n    when: lead.employees > 1\n    points: \"ten\"\n" + stages,
			[]wantProblem{{"5:13", "points must be a number"}}},
		{"missing when and points", "name: x\nbehavior:\n  - id: a\n    max: 3\n" + stages,
			[]wantProblem{{"3:5", `missing field "when"`}, {"3:5", `missing field "points"`}}},
		{"max on a fit rule", "name: x\nfit:\n  - id: a\n    when: true\n    points: 1\n    max: 3\n" + stages,
			[]wantProblem{{"6:5", `unknown field "max"`}}},
		{"negative max", "name: x\nbehavior:\n  - id: a\n    when: event.name == 'x'\n    points: 1\n    max: -3\n" + stages,
			[]wantProblem{{"6:10", "max must not be negative"}}},
		{"absurd points", "name: x\nfit:\n  - id: a\n    when: true\n    points: 100000\n" + stages,
			[]wantProblem{{"5:13", "out of range"}}},
		{"absurd max", "name: x\nbehavior:\n  - id: a\n    when: true\n    points: 1\n    max: 200000\n" + stages,
			[]wantProblem{{"6:10", "out of range"}}},
		{"duplicate rule id", "name: x\nfit:\n  - id: a\n    when: true\n    points: 1\nbehavior:\n  - id: a\n    when: true\n    points: 1\n" + stages,
			[]wantProblem{{"7:9", `duplicate rule id "a" (first used at line 3)`}}},
		{"duplicate field", "name: x\nbehavior:\n  - id: a\n    when: true\n    points: 1\n    max: 3\n    max: 4\n" + stages,
			[]wantProblem{{"7:5", `duplicate field "max"`}}},
		{"id with space", "name: x\nfit:\n  - id: a b\n    when: true\n    points: 1\n" + stages,
			[]wantProblem{{"3:9", "spaces"}}},
		{"factor out of range", "name: x\ndecay:\n  - older_than: 90d\n    factor: 1.5\n" + stages,
			[]wantProblem{{"4:13", "between 0 and 1"}}},
		{"steps not increasing", "name: x\ndecay:\n  - older_than: 90d\n    factor: 0.5\n  - older_than: 2w\n    factor: 0\n" + stages,
			[]wantProblem{{"5:17", "increasing order"}}},
		{"duration without unit", "name: x\ndecay:\n  - older_than: 90\n    factor: 0.5\n" + stages,
			[]wantProblem{{"3:17", "needs a unit"}}},
		{"bad duration", "name: x\ndecay:\n  half_life: soon\n" + stages,
			[]wantProblem{{"3:14", `"soon" has no unit`}}},
		{"decay wrong type", "name: x\ndecay: 0.5\n" + stages,
			[]wantProblem{{"2:8", "decay must be a list"}}},
		{"cel syntax error", "name: x\nstages:\n  mql: score >=\n",
			[]wantProblem{{"3:16", "Syntax error"}}},
		{"unknown variable in fit", "name: x\nfit:\n  - id: a\n    when: score > 3\n    points: 1\n" + stages,
			[]wantProblem{{"4:11", "undeclared reference to 'score'"}}},
		{"event in fit", "name: x\nfit:\n  - id: a\n    when: event.name == 'x'\n    points: 1\n" + stages,
			[]wantProblem{{"4:11", "fit rules can use: lead"}}},
		{"unknown lead field", "name: x\nfit:\n  - id: a\n    when: lead.employees > 1 && lead.emial == 'x'\n    points: 1\n" + stages,
			[]wantProblem{{"4:37", "undefined field 'emial'"}}},
		{"unknown event field", "name: x\nbehavior:\n  - id: a\n    when: event.nme == 'x'\n    points: 1\n" + stages,
			[]wantProblem{{"4:16", "undefined field 'nme'"}}},
		{"unknown bant field", "name: x\nstages:\n  mql: lead.bant.money\n",
			[]wantProblem{{"3:17", "undefined field 'money'"}}},
		{"not a bool", "name: x\nfit:\n  - id: a\n    when: lead.employees\n    points: 1\n" + stages,
			[]wantProblem{{"4:11", "must be true or false"}}},
		{"dyn is not a bool", "name: x\nfit:\n  - id: a\n    when: lead.traits.vip\n    points: 1\n" + stages,
			[]wantProblem{{"4:11", "must be true or false"}}},
		{"bad regexp", "name: x\nfit:\n  - id: a\n    when: lead.title.matches(\"(\")\n    points: 1\n" + stages,
			[]wantProblem{{"4:11", "error parsing regexp"}}},
		{"error in folded block", "name: x\nstages:\n  mql: >\n    score >= 50 &&\n    lead.emial == 'x'\n",
			[]wantProblem{{"5:9", "undefined field 'emial'"}}},
		{"error in literal block", "name: x\nstages:\n  mql: |\n    score >= 50 &&\n      lead.emial == 'x'\n",
			[]wantProblem{{"5:11", "undefined field 'emial'"}}},
		{"error in quoted string", "name: x\nstages:\n  mql: \"score >= 50 && lead.emial == 'x'\"\n",
			[]wantProblem{{"3:28", "undefined field 'emial'"}}},
		{"error in plain multi-line", "name: x\nstages:\n  mql: score >= 50 &&\n    lead.emial == 'x'\n",
			[]wantProblem{{"4:9", "undefined field 'emial'"}}},
		{"error after non-ASCII", "name: x\nfit:\n  - id: 部長\n    when: lead.title == \"部長\" && lead.foo\n    points: 1\n" + stages,
			[]wantProblem{{"4:37", "undefined field 'foo'"}}},
		{"empty when", "name: x\nfit:\n  - id: a\n    when: \"\"\n    points: 1\n" + stages,
			[]wantProblem{{"4:11", "when must not be empty"}}},
		{"expiry to lead", "name: x\n" + stages + "expiry:\n  - id: e\n    stage: mql\n    after: 30d\n    when: score < 40\n    to: lead\n",
			[]wantProblem{{"9:9", "only move a lead to recycled or disqualified"}}},
		{"expiry unknown stage and var", "name: x\n" + stages + "expiry:\n  - id: e\n    stage: mgl\n    after: 30d\n    when: event.name == 'x'\n    to: recycled\n",
			[]wantProblem{{"6:12", `unknown stage "mgl"`}, {"8:11", "undeclared reference to 'event'"}}},
		{"fit not a list", "name: x\nfit: {id: a}\n" + stages,
			[]wantProblem{{"2:6", "fit must be a list"}}},
		{"alias", "name: x\nfit:\n  - &r {id: a, when: 'true', points: 1}\n  - *r\n" + stages,
			[]wantProblem{{"3:5", "not an anchor or alias"}, {"4:5", "not an anchor or alias"}}},
		{"yaml syntax error", "name: [x\n", []wantProblem{{"1:7", "YAML syntax error"}}},
		{"empty", "", []wantProblem{{"1:1", "model is empty"}}},
		{"not a mapping", "- a\n- b\n", []wantProblem{{"1:1", "the model must be a mapping"}}},
		{"two documents", "name: x\n" + stages + "---\nname: y\n", []wantProblem{{"5:1", "one YAML document"}}},
		{"not utf-8", "name: x\n" + stages + "description: \xff\n", []wantProblem{{"4:1", "not valid UTF-8"}}},
		{"too large", "name: x\n" + stages + "description: " + strings.Repeat("a", MaxModelSize) + "\n",
			[]wantProblem{{"1:1", "larger than"}}},
		{"deep flow nesting", "name: " + strings.Repeat("[", 100000) + "\n", []wantProblem{{"1:71", "nested too deeply"}}},
		{"deep block nesting", "name: x\ndescription:\n" + deepBlock(300), []wantProblem{{"", "nested too deeply"}}},
		{"several problems at once", "name: x\nfit:\n  - id: a\n    when: lead.nope\n    points: 1\n  - id: b\n    when: true\n" + stages,
			[]wantProblem{{"4:15", "undefined field 'nope'"}, {"6:5", `rule "b": missing field "points"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Compile("m.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("Compile accepted the model %q", m.Name)
			}
			var e *leadflow.Error
			if !errors.As(err, &e) || e.Code != leadflow.EINVALID || e.Message != "model is invalid" {
				t.Fatalf("err = %#v, want an EINVALID \"model is invalid\"", err)
			}
			for _, w := range tt.want {
				found := false
				for _, d := range e.Details {
					if strings.HasPrefix(d.Where, "m.yaml:"+w.where) && strings.Contains(d.Message, w.msg) {
						found = true
					}
				}
				if !found {
					t.Errorf("no detail at m.yaml:%s containing %q; got %+v", w.where, w.msg, e.Details)
				}
			}
			if len(e.Details) != len(tt.want) {
				t.Errorf("got %d details, want %d: %+v", len(e.Details), len(tt.want), e.Details)
			}
		})
	}
}

func deepBlock(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i+1) + "k:\n")
	}
	return b.String()
}

func TestCompileValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		check     func(t *testing.T, m *Model)
	}{
		{"default model", string(DefaultModel), func(t *testing.T, m *Model) {
			if m.Name != "default" || !strings.Contains(m.Description, "three months") {
				t.Errorf("name %q description %q", m.Name, m.Description)
			}
			if got := strings.Join(m.EventFields(), ","); got != "name,properties.path,type" {
				t.Errorf("EventFields = %s", got)
			}
			th := m.Thresholds()
			if th[leadflow.StageMQL] != 50 || th[leadflow.StageSQL] != 70 || len(th) != 2 {
				t.Errorf("Thresholds = %v", th)
			}
			if !m.Defines(leadflow.StageHQL) || m.Defines(leadflow.StageSAL) {
				t.Error("Defines: want hql and no sal")
			}
			if d, ok := m.ExpiryAfter(leadflow.StageMQL); !ok || d.Hours() != 30*24 {
				t.Errorf("ExpiryAfter(mql) = %v, %v", d, ok)
			}
			if len(m.Rules()) != 4+5+3+1 {
				t.Errorf("Rules() has %d rules", len(m.Rules()))
			}
		}},
		{"minimal, half life, all stages", "name: m\ndecay: {half_life: 45d}\nstages:\n  mql: score > 40 || fit_score >= 30\n  sal: false\n  sql: 60 <= score && behavior_score > 10\n  hql: lead.bant.timeline_days <= 30\n", func(t *testing.T, m *Model) {
			if m.Decay().HalfLife.Text != "45d" {
				t.Errorf("decay %v", m.Decay())
			}
			th := m.Thresholds()
			if th[leadflow.StageMQL] != 40 || th[leadflow.StageSQL] != 60 || len(th) != 2 {
				t.Errorf("Thresholds = %v", th)
			}
		}},
		{"tags, comments, flow style, empty lists", "# model\nname: !!str 42\nfit: []\nbehavior:\ndecay:\nstages: {mql: \"score >= 50\"}\n", func(t *testing.T, m *Model) {
			if m.Name != "42" || len(m.Rules()) != 1 {
				t.Errorf("name %q rules %d", m.Name, len(m.Rules()))
			}
		}},
		{"whole-map and computed reads", "name: m\nbehavior:\n  - id: a\n    when: event.properties.exists(k, k == 'x') && event.context[event.name] == 1\n    points: 1\n  - id: b\n    when: has(event.properties.utm) && lead.traits.plan == 'pro'\n    points: 1\nstages:\n  mql: score >= 50\n", func(t *testing.T, m *Model) {
			if got := strings.Join(m.EventFields(), ","); got != "context,name,properties,properties.utm" {
				t.Errorf("EventFields = %s", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Compile("m.yaml", []byte(tt.src))
			if err != nil {
				var e *leadflow.Error
				errors.As(err, &e)
				t.Fatalf("Compile: %v %+v", err, e.Details)
			}
			if string(m.Source) != tt.src {
				t.Error("Source not kept")
			}
			tt.check(t, m)
		})
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]float64{"30m": 0.5, "12h": 12, "90d": 90 * 24, "2w": 14 * 24} {
		d, err := ParseDuration(s)
		if err != nil || d.D.Hours() != want || d.String() != s {
			t.Errorf("ParseDuration(%q) = %v, %v", s, d, err)
		}
	}
	for _, s := range []string{"", "d", "0d", "-1d", "+1d", "1.5d", "90", "90s", "99999999999w", "1 d x"} {
		if _, err := ParseDuration(s); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", s)
		}
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	a := MustCompile("a.yaml", DefaultModel)
	src := strings.NewReplacer(
		"points: 15\n  - id: decision-maker", "points: 20\n  - id: decision-maker", // company-100plus 15 -> 20
		"  - id: email-click\n    when: event.name == \"Email Link Clicked\"\n    points: 3\n    max: 15\n", "",
		"mql: score >= 50", "mql: score >= 60",
		"factor: 0.5", "factor: 0.6",
	).Replace(string(DefaultModel)) + "  - id: stale-sql\n    stage: sql\n    after: 90d\n    when: score < 20\n    to: recycled\n"
	b, err := Compile("b.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range Diff(a, b) {
		got = append(got, c.Kind+" "+c.Section+"/"+c.Rule)
	}
	want := []string{"changed fit/company-100plus", "removed behavior/email-click", "changed decay/decay",
		"changed stages/mql", "added expiry/stale-sql"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("Diff = %q\nwant   %q", got, want)
	}
	if d := Diff(a, a); len(d) != 0 {
		t.Errorf("Diff(a, a) = %v", d)
	}
	if d := Diff(nil, a); len(d) != 2+4+5+1+3+1 {
		t.Errorf("Diff(nil, a) has %d changes: %v", len(d), d)
	}
	c := Diff(a, b)[0]
	if c.Old != "when: lead.employees >= 100; points: 15" || c.New != "when: lead.employees >= 100; points: 20" {
		t.Errorf("change text %q -> %q (%s)", c.Old, c.New, c)
	}
}

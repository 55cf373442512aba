package scoring

import (
	"fmt"
	"strings"
	"time"
)

// explainWords holds the words of the text explanation per language.
type explainWords struct {
	score, fit, behavior, none, capped, events, more, next, needed, asOf string
}

var words = map[string]explainWords{
	"en": {score: "Score", fit: "Fit", behavior: "Behavior", none: "(none)",
		capped: "capped at", events: "events", more: "… %d older events",
		next: "Next stage", needed: "%s points needed", asOf: "as of"},
	"ja": {score: "スコア", fit: "属性スコア", behavior: "行動スコア", none: "(なし)",
		capped: "上限", events: "件", more: "… ほか %d 件",
		next: "次のステージ", needed: "あと %s 点", asOf: "時点"},
}

// String renders the explanation in English.
func (e Explanation) String() string { return e.Text("en") }

// Text renders the explanation for a terminal (`leadflow lead explain`)
// in lang, "en" or "ja" (anything else falls back to English).
func (e Explanation) Text(lang string) string {
	w, ok := words[lang]
	if !ok {
		w = words["en"]
	}
	var b strings.Builder
	asOf := e.AsOf.UTC().Format("2006-01-02 15:04 MST")
	if lang == "ja" {
		fmt.Fprintf(&b, "%s %s (%s %s + %s %s)  %s %s\n", w.score, fmtNum(e.Score),
			w.fit, fmtNum(e.FitScore), w.behavior, fmtNum(e.BehaviorScore), asOf, w.asOf)
	} else {
		fmt.Fprintf(&b, "%s %s (%s %s + %s %s) %s %s\n", w.score, fmtNum(e.Score),
			strings.ToLower(w.fit), fmtNum(e.FitScore), strings.ToLower(w.behavior), fmtNum(e.BehaviorScore), w.asOf, asOf)
	}
	fmt.Fprintf(&b, "\n%s %s\n", w.fit, fmtNum(e.FitScore))
	if len(e.Fit) == 0 {
		fmt.Fprintf(&b, "  %s\n", w.none)
	}
	for _, f := range e.Fit {
		fmt.Fprintf(&b, "  %7s  %s  (%s)\n", signed(f.Points), f.Rule, f.When)
	}
	fmt.Fprintf(&b, "\n%s %s\n", w.behavior, fmtNum(e.BehaviorScore))
	if len(e.Behavior) == 0 {
		fmt.Fprintf(&b, "  %s\n", w.none)
	}
	for _, r := range e.Behavior {
		fmt.Fprintf(&b, "  %7s  %s  (%d %s", signed(r.Points), r.Rule, r.EventCount, w.events)
		if r.Capped && r.Max != nil {
			fmt.Fprintf(&b, ", %s, %s %s", fmtNum(r.RawPoints), w.capped, fmtNum(*r.Max))
		}
		b.WriteString(")\n")
		for _, ev := range r.Events {
			fmt.Fprintf(&b, "           %s  %s  %s × %s = %s\n", ev.At.UTC().Format(time.DateOnly),
				ev.Name, fmtNum(ev.Points), fmtNum(ev.Factor), fmtNum(ev.Weighted))
		}
		if n := r.EventCount - len(r.Events); n > 0 {
			fmt.Fprintf(&b, "           "+w.more+"\n", n)
		}
	}
	if ns := e.NextStage; ns != nil {
		fmt.Fprintf(&b, "\n%s: %s (%s, "+w.needed+")\n", w.next, ns.Stage, fmtNum(ns.Threshold), fmtNum(ns.PointsNeeded))
	}
	return b.String()
}

func signed(x float64) string {
	if x > 0 {
		return "+" + fmtNum(x)
	}
	return fmtNum(x)
}

// Package scoring compiles and evaluates leadflow's scoring model: a YAML
// file with fit rules (who the lead is), behavior rules (what the lead did,
// with caps and time decay), stage rules (mql, sal, sql, hql) and expiry
// rules. Conditions are CEL expressions. The package is pure: no I/O, no
// clock (callers pass now), so a model can be replayed over history.
//
// # The file
//
//	name: default                # required
//	description: …               # optional
//	fit:                         # points for who the lead is
//	  - id: company-100plus      # unique across fit, behavior and expiry
//	    when: lead.employees >= 100
//	    points: 15               # -10000 … 10000
//	behavior:                    # points per matching event
//	  - id: pricing-page
//	    when: event.type == "page" && event.properties.path.startsWith("/pricing")
//	    points: 10
//	    max: 30                  # optional cap on the rule's decayed total (0 … 100000)
//	decay:                       # steps, increasing; or: decay: {half_life: 45d}
//	  - older_than: 90d          # durations: 30m, 12h, 90d, 2w
//	    factor: 0.5              # 0 … 1
//	stages:                      # mql required; sal, sql, hql optional
//	  mql: score >= 50
//	expiry:                      # optional
//	  - id: stale-mql
//	    stage: mql
//	    after: 30d
//	    when: score < 40
//	    to: recycled             # recycled or disqualified
//	    reason: "…"
//
// # Score
//
//	score = Σ fit points + Σ over behavior rules of min(max, Σ points × decay factor)
//
// The decay factor of an event is that of the largest step its age exceeds
// (1 below the first step), or 0.5^(age/half_life). A cap bounds a rule's
// positive total only; negative rules count in full. Scores are rounded to
// 2 decimals.
//
// # CEL variables
//
// Fit rules see lead; behavior rules lead and event; stage rules score,
// fit_score, behavior_score, lead and event; expiry rules score, fit_score,
// behavior_score and lead.
//
//	score, fit_score, behavior_score  double
//	lead.email, .name, .company, .title, .industry,
//	    .country, .region, .phone, .stage          string
//	lead.employees                                  int
//	lead.source, .medium, .campaign                 string (first-touch attribution)
//	lead.unsubscribed, lead.consent                 bool
//	lead.traits                                     map(string, dyn)
//	lead.bant.budget, .authority, .need             bool
//	lead.bant.timeline_days                         int (2147483647 when unknown)
//	event.type                                      string (page, track, identify, group, alias; "" for none)
//	event.name                                      string
//	event.properties, event.context                 map(string, dyn)
//	event.timestamp                                 timestamp
//
// An unknown variable or field, a condition that is not a bool, or a syntax
// error refuses the model with its line and column. At run time, any error
// (a missing key such as event.properties.path on an event without a path,
// a value of the wrong type, the cost limit) makes the condition false.
// timeline_days is counted from the event's time in behavior rules and
// from now elsewhere. The CEL string extensions (lowerAscii, split, …) are
// available.
package scoring

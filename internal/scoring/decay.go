package scoring

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxDuration bounds model durations (100 years) so arithmetic cannot overflow.
const maxDuration = 100 * 365 * 24 * time.Hour

// Duration is a model duration such as 90d, kept with its spelling so that
// explanations and diffs show what marketing wrote.
type Duration struct {
	D    time.Duration
	Text string
}

// String returns the duration as written in the model.
func (d Duration) String() string { return d.Text }

// ParseDuration reads an integer followed by a unit: m (minutes), h (hours),
// d (days) or w (weeks), e.g. "90d", "12h", "2w". It must be positive.
func ParseDuration(s string) (Duration, error) {
	t := strings.TrimSpace(s)
	if len(t) < 2 {
		return Duration{}, fmt.Errorf("%q is not a duration such as 90d, 12h or 2w", s)
	}
	var unit time.Duration
	switch t[len(t)-1] {
	case 'm':
		unit = time.Minute
	case 'h':
		unit = time.Hour
	case 'd':
		unit = 24 * time.Hour
	case 'w':
		unit = 7 * 24 * time.Hour
	default:
		return Duration{}, fmt.Errorf("%q has no unit; use m, h, d or w (e.g. 90d)", s)
	}
	n, err := strconv.ParseInt(t[:len(t)-1], 10, 64)
	if err != nil || strings.ContainsAny(t[:1], "+-") {
		return Duration{}, fmt.Errorf("%q is not a duration such as 90d, 12h or 2w", s)
	}
	if n <= 0 {
		return Duration{}, fmt.Errorf("duration %q must be positive", s)
	}
	if n > int64(maxDuration/unit) {
		return Duration{}, fmt.Errorf("duration %q is longer than 100 years", s)
	}
	return Duration{D: time.Duration(n) * unit, Text: t}, nil
}

// DecayStep applies Factor to behavior older than OlderThan.
type DecayStep struct {
	OlderThan Duration
	Factor    float64
}

// Decay is how older behavior counts less: either steps (the factor of the
// largest step the event's age exceeds; 1 below the first step) or a half
// life (0.5^(age/half_life)). The zero Decay keeps every event at full value.
type Decay struct {
	Steps    []DecayStep
	HalfLife Duration
}

// String renders the decay as one line, for diffs and explanations.
func (d Decay) String() string {
	switch {
	case d.HalfLife.D > 0:
		return "half_life: " + d.HalfLife.Text
	case len(d.Steps) > 0:
		parts := make([]string, len(d.Steps))
		for i, s := range d.Steps {
			parts[i] = fmt.Sprintf("older_than %s: factor %s", s.OlderThan, fmtNum(s.Factor))
		}
		return strings.Join(parts, "; ")
	}
	return "none"
}

// Factor returns the weight of behavior of the given age. A negative age
// (an event stamped in the future) counts as new.
func (d Decay) Factor(age time.Duration) float64 {
	if age < 0 {
		age = 0
	}
	if d.HalfLife.D > 0 {
		return math.Exp2(-float64(age) / float64(d.HalfLife.D))
	}
	f := 1.0
	for _, s := range d.Steps {
		if age <= s.OlderThan.D {
			break
		}
		f = s.Factor
	}
	return f
}

// nextStep returns when the factor of an event at `at` next changes after
// now, for step decay: the first whole second past a step boundary, so that
// a job scheduled then (at any timestamp precision) sees the new factor.
// It returns the zero time when the factor will not change again.
func (d Decay) nextStep(at, now time.Time) time.Time {
	age := now.Sub(at)
	cur := d.Factor(age)
	for _, s := range d.Steps {
		if age > s.OlderThan.D || s.Factor == cur {
			continue // already past, or crossing it changes nothing
		}
		return at.Add(s.OlderThan.D).Truncate(time.Second).Add(time.Second)
	}
	return time.Time{}
}

// nextHalfLife returns when the decayed behavior total `total` (the sum of
// |points × factor| as of now) will have fallen by 1 point or 1%, whichever
// is larger, or below what rounds to zero; zero when it already rounds to 0.
func (d Decay) nextHalfLife(total float64, now time.Time) time.Time {
	if total < 0.005 {
		return time.Time{}
	}
	drop := max(1, total/100)
	var halves float64
	if total-drop >= 0.005 {
		halves = math.Log2(total / (total - drop))
	} else {
		halves = math.Log2(total / 0.005)
	}
	wait := time.Duration(halves * float64(d.HalfLife.D))
	if wait < time.Second || wait > maxDuration {
		wait = min(max(wait, time.Second), maxDuration)
	}
	return now.Add(wait).Truncate(time.Second).Add(time.Second)
}

// fmtNum formats a number without a trailing ".0".
func fmtNum(x float64) string {
	return strconv.FormatFloat(x, 'f', -1, 64)
}

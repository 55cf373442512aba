package analytics

import (
	"math"
	"slices"
	"time"
)

// Quantile returns the p-quantile (0 ≤ p ≤ 1) of xs by linear
// interpolation between the closest ranks (R-7, numpy's and Excel
// PERCENTILE.INC's default): h = (n−1)·p, q = x[⌊h⌋] + (h−⌊h⌋)·(x[⌊h⌋+1] −
// x[⌊h⌋]). The median is Quantile(xs, 0.5), the mean of the two middle
// values for an even count. xs is sorted in place; ok is false when xs is
// empty.
func Quantile(xs []int64, p float64) (q float64, ok bool) {
	if len(xs) == 0 {
		return 0, false
	}
	if !slices.IsSorted(xs) {
		slices.Sort(xs)
	}
	h := float64(len(xs)-1) * p
	lo := int(math.Floor(h))
	if lo >= len(xs)-1 {
		return float64(xs[len(xs)-1]), true
	}
	return float64(xs[lo]) + (h-float64(lo))*float64(xs[lo+1]-xs[lo]), true
}

// Durations summarises a set of durations in hours.
type Durations struct {
	N           int      `json:"n"`
	MedianHours *float64 `json:"median_hours"`
	P90Hours    *float64 `json:"p90_hours"`
}

func summarize(us []int64) Durations {
	d := Durations{N: len(us)}
	if m, ok := Quantile(us, 0.5); ok {
		d.MedianHours = ptr(round(m/float64(time.Hour/time.Microsecond), 3))
	}
	if m, ok := Quantile(us, 0.9); ok {
		d.P90Hours = ptr(round(m/float64(time.Hour/time.Microsecond), 3))
	}
	return d
}

// rate returns num/den rounded to 4 decimals, nil when den is 0.
func rate(num, den float64) *float64 {
	if den == 0 {
		return nil
	}
	return ptr(round(num/den, 4))
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	r := math.Round(x*p) / p
	if r == 0 {
		return 0
	}
	return r
}

func ptr[T any](v T) *T { return &v }

package analytics

import (
	"math"
	"math/bits"
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

// summarize gives the median and p90 of us (reordered) and zeros more
// durations of 0 as Quantile would, by selection rather than a sort.
func summarize(us []int64, zeros int64) Durations {
	d := Durations{N: len(us) + int(zeros)}
	if m, ok := selectQuantile(us, int(zeros), 0.5); ok {
		d.MedianHours = ptr(round(m/float64(time.Hour/time.Microsecond), 3))
	}
	if m, ok := selectQuantile(us, int(zeros), 0.9); ok {
		d.P90Hours = ptr(round(m/float64(time.Hour/time.Microsecond), 3))
	}
	return d
}

// selectQuantile is Quantile of xs and zeros more values of 0 (xs holds
// no negative value when zeros > 0), without sorting: it reorders xs so
// that the two closest ranks are in place (quickselect, linear on
// average) and interpolates between them by the same formula.
func selectQuantile(xs []int64, zeros int, p float64) (float64, bool) {
	n := len(xs) + zeros
	if n == 0 {
		return 0, false
	}
	// rank returns the k-th smallest value (0-based) and, when it is in
	// xs, puts it at xs[k-zeros] with nothing smaller after it.
	rank := func(k int) int64 {
		if k < zeros {
			return 0
		}
		selectRank(xs, k-zeros)
		return xs[k-zeros]
	}
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return float64(rank(n - 1)), true
	}
	a := rank(lo)
	var b int64
	switch {
	case lo+1 < zeros:
		b = 0
	case lo < zeros:
		b = slices.Min(xs)
	default:
		b = slices.Min(xs[lo-zeros+1:])
	}
	return float64(a) + (h-float64(lo))*float64(b-a), true
}

// selectRank reorders xs so that xs[k] holds the value a sort would put
// there, with nothing larger before it and nothing smaller after it
// (Hoare partitions around a median of three; a window that shrinks too
// slowly is sorted instead).
func selectRank(xs []int64, k int) {
	lo, hi := 0, len(xs)-1
	for budget := 2*bits.Len(uint(len(xs))) + 4; hi > lo; budget-- {
		if budget == 0 || hi-lo < 24 {
			slices.Sort(xs[lo : hi+1])
			return
		}
		a, b, c := xs[lo], xs[lo+(hi-lo)/2], xs[hi]
		pivot := max(min(a, b), min(max(a, b), c))
		i, j := lo, hi
		for i <= j {
			for xs[i] < pivot {
				i++
			}
			for xs[j] > pivot {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		// xs[lo..j] <= pivot, xs[i..hi] >= pivot, and anything between
		// equals the pivot.
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
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

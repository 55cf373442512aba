package analytics

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSelectQuantile checks that the selection summarize uses gives
// Quantile's answer, bit for bit, on random sets with many ties (velocity
// has many zeros), sorted and reversed input and small sets.
func TestSelectQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		n := rng.IntN(300)
		if round%50 == 0 {
			n = rng.IntN(100_000)
		}
		xs := make([]int64, n)
		spread := []int64{1, 3, 100, 1 << 40}[round%4]
		for i := range xs {
			xs[i] = rng.Int64N(spread)
			if rng.IntN(4) == 0 {
				xs[i] = 0
			}
		}
		switch round % 3 {
		case 1:
			slices.Sort(xs)
		case 2:
			slices.Sort(xs)
			slices.Reverse(xs)
		}
		// The same set with its zeros counted apart (as velocity reads
		// them from kpi_agg's z).
		var pos []int64
		zeros := 0
		for _, x := range xs {
			if x == 0 {
				zeros++
			} else {
				pos = append(pos, x)
			}
		}
		for _, p := range []float64{0, 0.1, 0.5, 0.9, 1} {
			want, wok := Quantile(slices.Clone(xs), p)
			got, ok := selectQuantile(slices.Clone(xs), 0, p)
			if got != want || ok != wok {
				t.Fatalf("round %d, n %d, p %v: got %v %v, want %v %v", round, n, p, got, ok, want, wok)
			}
			got, ok = selectQuantile(slices.Clone(pos), zeros, p)
			if got != want || ok != wok {
				t.Fatalf("round %d, n %d, %d zeros apart, p %v: got %v %v, want %v %v", round, n, zeros, p, got, ok, want, wok)
			}
		}
	}
}

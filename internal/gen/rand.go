package gen

import (
	"math"
	"math/bits"
)

// rng is a small, fast, deterministic generator (splitmix64). Every lead and
// every company gets its own stream, derived from the seed and its index, so
// a lead's content does not depend on how much randomness earlier leads used.
type rng struct{ s uint64 }

// mix64 is the splitmix64 finaliser: a bijection on uint64, which is what
// makes the identifiers built from it unique.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// stream salts keep the per-purpose streams independent.
const (
	saltLead    = 0x6c656164 // "lead"
	saltCompany = 0x636f6d70 // "comp"
	saltCount   = 0x636e7473 // "cnts"
	saltOutcome = 0x6f757463 // "outc"
	saltMsg     = 0x6d736773 // "msgs"
	saltAnon    = 0x616e6f6e // "anon"
)

func newRNG(seed int64, salt, index uint64) rng {
	return rng{s: mix64(uint64(seed)^mix64(salt)) ^ mix64(index+0x9e3779b97f4a7c15)}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// float returns a uniform value in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) * (1.0 / (1 << 53)) }

// intn returns a uniform value in [0, n); n must be > 0.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// norm returns a standard normal value (Box–Muller; one of the pair is
// dropped, which keeps the generator stateless beyond s).
func (r *rng) norm() float64 {
	u := r.float()
	if u < 1e-300 {
		u = 1e-300
	}
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}

// exp returns an exponential value with the given mean.
func (r *rng) exp(mean float64) float64 { return -mean * math.Log(1-r.float()) }

// pick returns an index drawn from cumulative weights cum (last = total).
func (r *rng) pick(cum []float64) int {
	x := r.float() * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// cumulative turns weights into the cumulative form pick expects.
func cumulative(w []float64) []float64 {
	c := make([]float64, len(w))
	s := 0.0
	for i, x := range w {
		s += x
		c[i] = s
	}
	return c
}

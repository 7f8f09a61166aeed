// Package zipf draws ranks from a Zipf distribution of any exponent, with
// a seeded generator, so benchmarks and simulations see the same sequence
// on every run. (math/rand/v2's Zipf needs an exponent above 1; SaaS
// traffic is often modelled at 0.8-1.2.)
package zipf

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Zipf draws ranks 0..n-1 where rank k has weight 1/(k+1)^s.
type Zipf struct {
	cdf []float64
	r   *rand.Rand
}

// New returns a generator over n ranks with exponent s >= 0 (0 is
// uniform), seeded by seed.
func New(n int, s float64, seed uint64) *Zipf {
	cdf := make([]float64, n)
	var sum float64
	for k := range n {
		sum += 1 / math.Pow(float64(k+1), s)
		cdf[k] = sum
	}
	for k := range cdf {
		cdf[k] /= sum
	}
	return &Zipf{cdf: cdf, r: rand.New(rand.NewPCG(seed, uint64(math.Float64bits(s))))}
}

// Next returns the next rank. It is not safe for concurrent use.
func (z *Zipf) Next() int {
	u := z.r.Float64()
	return min(sort.SearchFloat64s(z.cdf, u), len(z.cdf)-1)
}

// Sequence returns the first count ranks of a fresh generator: the same
// slice for the same arguments on every run.
func Sequence(n int, s float64, seed uint64, count int) []int {
	z := New(n, s, seed)
	out := make([]int, count)
	for i := range out {
		out[i] = z.Next()
	}
	return out
}

// TopShare is the share of draws that fall on the k most popular ranks:
// the hit rate a cache pinning exactly those k would have.
func (z *Zipf) TopShare(k int) float64 {
	if k <= 0 {
		return 0
	}
	return z.cdf[min(k, len(z.cdf))-1]
}

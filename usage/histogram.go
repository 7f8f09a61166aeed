package usage

import (
	"sync/atomic"
	"time"
)

// Bounds are the upper bounds of the latency buckets, in order; a last,
// unbounded bucket follows. Stored bucket counts are positional: append
// new bounds only at the end, never change or reorder these.
var Bounds = []time.Duration{
	250 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond,
	3 * time.Millisecond, 5 * time.Millisecond, 7500 * time.Microsecond, 10 * time.Millisecond,
	15 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond, 75 * time.Millisecond,
	100 * time.Millisecond, 150 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	750 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// buckets is len(Bounds) + 1: the last one counts what passed them all.
const buckets = 22

// histogram counts latencies per bucket, without a lock.
type histogram [buckets]atomic.Int64

func (h *histogram) observe(d time.Duration) {
	i := 0
	for i < len(Bounds) && d > Bounds[i] { // 22 comparisons at most: cheaper than a search's branches
		i++
	}
	h[i].Add(1)
}

// drain returns the counts and zeroes them.
func (h *histogram) drain() []int64 {
	out := make([]int64, buckets)
	for i := range h {
		out[i] = h[i].Swap(0)
	}
	return out
}

func (h *histogram) peek() []int64 {
	out := make([]int64, buckets)
	for i := range h {
		out[i] = h[i].Load()
	}
	return out
}

// Quantile is the latency under which a fraction q of the requests
// counted in b (per bucket, as stored) fell, interpolated linearly inside
// its bucket; 0 when b counts none. A quantile in the last, unbounded
// bucket reports the last bound.
func Quantile(b []int64, q float64) time.Duration {
	var total int64
	for _, n := range b {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var seen int64
	for i, n := range b {
		if n == 0 || float64(seen+n) < rank {
			seen += n
			continue
		}
		if i >= len(Bounds) {
			return Bounds[len(Bounds)-1]
		}
		lo := time.Duration(0)
		if i > 0 {
			lo = Bounds[i-1]
		}
		frac := (rank - float64(seen)) / float64(n)
		return lo + time.Duration(frac*float64(Bounds[i]-lo))
	}
	return Bounds[len(Bounds)-1]
}

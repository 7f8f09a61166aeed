package plans

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// DefaultLimiters bounds how many tenants' buckets a Limiters keeps.
const DefaultLimiters = 100_000

// Limiters holds one token bucket per tenant, created on the tenant's
// first request. The hot path is a sync.Map load and the bucket's own
// (short) lock: no lock shared by tenants. No bucket is ever shared
// across tenants: the key is the tenant id.
//
// The map is bounded: past its size it is emptied, which hands every
// tenant a fresh bucket (a burst they may not have had). That only
// happens with more active tenants than the bound in the process's
// life; it is cheaper than tracking recency on every request.
type Limiters struct {
	max     int64
	n       atomic.Int64
	buckets sync.Map // tenant id -> *bucket
}

// bucket is a tenant's limiter and the plan figures it was built for, so
// that a plan change (another rate or burst) takes effect at once.
type bucket struct {
	lim   *rate.Limiter
	rps   float64
	burst int
}

// NewLimiters returns empty limiters keeping at most max buckets (0:
// DefaultLimiters).
func NewLimiters(max int) *Limiters {
	if max <= 0 {
		max = DefaultLimiters
	}
	return &Limiters{max: int64(max)}
}

// Allow spends one request of tenant's bucket on plan p at now. When the
// bucket is empty it reports false and how long until a request would
// pass. A plan with no requests_per_second always passes.
func (l *Limiters) Allow(tenant string, p *Plan, now time.Time) (bool, time.Duration) {
	if p.RequestsPerSecond <= 0 {
		return true, 0
	}
	b := l.bucket(tenant, p)
	if b.lim.AllowN(now, 1) {
		return true, 0
	}
	// Tokens below 1: the time until one is back.
	missing := 1 - b.lim.TokensAt(now)
	wait := time.Duration(math.Ceil(missing / p.RequestsPerSecond * float64(time.Second)))
	return false, max(wait, time.Millisecond)
}

// bucket returns tenant's bucket for plan p: the one it has, or a new
// full one when it has none or one sized for another plan. Goroutines
// racing to create or resize it agree on one (LoadOrStore,
// CompareAndSwap), so no request is handed a second burst.
func (l *Limiters) bucket(tenant string, p *Plan) *bucket {
	for {
		v, ok := l.buckets.Load(tenant)
		if ok {
			b := v.(*bucket)
			if b.rps == p.RequestsPerSecond && b.burst == p.Burst {
				return b
			}
			nb := newBucket(p)
			if l.buckets.CompareAndSwap(tenant, v, nb) {
				return nb
			}
			continue // another request resized it first
		}
		nb := newBucket(p)
		if _, loaded := l.buckets.LoadOrStore(tenant, nb); loaded {
			continue // another request created it first
		}
		if l.n.Add(1) > l.max {
			l.buckets.Clear()
			l.n.Store(1)
			l.buckets.Store(tenant, nb)
		}
		return nb
	}
}

func newBucket(p *Plan) *bucket {
	return &bucket{lim: rate.NewLimiter(rate.Limit(p.RequestsPerSecond), p.Burst), rps: p.RequestsPerSecond, burst: p.Burst}
}

// Len reports how many buckets are kept.
func (l *Limiters) Len() int { return int(l.n.Load()) }

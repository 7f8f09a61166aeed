package tenantstore

import (
	"fmt"
	"testing"

	arc "github.com/hashicorp/golang-lru/arc/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/condohq/condo/internal/zipf"
)

// cachePolicy is the part of a golang-lru cache the simulation drives.
type cachePolicy interface {
	Get(string) (struct{}, bool)
	Add(string, struct{})
}

type simpleLRU struct {
	*simplelru.LRU[string, struct{}]
}

func (c simpleLRU) Add(k string, v struct{}) { c.LRU.Add(k, v) }

// TestPolicySimulation replays the same seeded Zipf draws through
// golang-lru's LRU, 2Q and ARC at a pool of 10% of the tenants, and
// reports each one's hit rate before and after a scan of every tenant.
// It is the evidence for the pool's policy (docs/PERFORMANCE.md); it
// checks only that 2Q, the policy the pool uses, beats plain LRU.
func TestPolicySimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	const tenants, size, draws = 10_000, 1_000, 400_000
	ids := make([]string, tenants)
	for i := range ids {
		ids[i] = fmt.Sprintf("t%05d", i)
	}
	policies := []struct {
		name string
		make func() cachePolicy
	}{
		{"lru", func() cachePolicy { c, _ := simplelru.NewLRU[string, struct{}](size, nil); return simpleLRU{c} }},
		{"2q", func() cachePolicy { c, _ := lru.New2Q[string, struct{}](size); return c }},
		{"arc", func() cachePolicy { c, _ := arc.NewARC[string, struct{}](size); return c }},
		{"pool", func() cachePolicy { return newPoolPolicySim(size) }},
	}
	for _, s := range []float64{0, 0.8, 1.0, 1.2} {
		seq := zipf.Sequence(tenants, s, 1, 2*draws)
		top := zipf.New(tenants, s, 1).TopShare(size)
		for _, p := range policies {
			c := p.make()
			hit := func(part []int) float64 {
				h := 0
				for _, k := range part {
					if _, ok := c.Get(ids[k]); ok {
						h++
					} else {
						c.Add(ids[k], struct{}{})
					}
				}
				return float64(h) / float64(len(part))
			}
			hit(seq[:draws]) // warm
			before := hit(seq[draws : draws+draws/2])
			for _, id := range ids { // a scan through the ordinary path
				if _, ok := c.Get(id); !ok {
					c.Add(id, struct{}{})
				}
			}
			after := hit(seq[draws+draws/2 : draws+draws/2+size*5])
			t.Logf("zipf %.1f  %-4s hit %.1f%%  (first %d draws after a scan %.1f%%; pinning the top %d: %.1f%%)",
				s, p.name, 100*before, size*5, 100*after, size, 100*top)
		}
	}
}

// poolPolicySim drives the pool's own twoQueue like the caches above.
type poolPolicySim struct{ q *twoQueue[struct{}] }

func newPoolPolicySim(size int) poolPolicySim {
	return poolPolicySim{newTwoQueue[struct{}](size, func(string, struct{}) {})}
}

func (p poolPolicySim) Get(k string) (struct{}, bool) { return p.q.Get(k) }
func (p poolPolicySim) Add(k string, v struct{})      { p.q.Add(k, v, false) }

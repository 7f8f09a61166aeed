package tenantstore

import (
	"fmt"
	"testing"

	lruarc "github.com/hashicorp/golang-lru/arc/v2"
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
// reports each one's hit rate before and after a scan of every tenant,
// and the pool's own ARC beside them, also after a scan through
// AcquireScan's path. It is the evidence for the pool's policy
// (docs/PERFORMANCE.md); it checks only that the pool's ARC matches
// golang-lru's and beats LRU.
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
		{"arc", func() cachePolicy { c, _ := lruarc.NewARC[string, struct{}](size); return c }},
		{"pool-arc", func() cachePolicy { return newPoolARCSim(size) }},
	}
	rates := map[string][]float64{}
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
			if sc, ok := c.(scanner); ok { // the pool's scan path, on a fresh warm-up
				c = p.make()
				hit(seq[:draws])
				hit(seq[draws : draws+draws/2])
				for _, id := range ids {
					sc.Scan(id)
				}
				t.Logf("zipf %.1f  %-8s first %d draws after a scan through AcquireScan's path: %.1f%%",
					s, p.name, size*5, 100*hit(seq[draws+draws/2:draws+draws/2+size*5]))
			}
			rates[p.name] = append(rates[p.name], before)
			t.Logf("zipf %.1f  %-8s hit %.1f%%  (first %d draws after a scan %.1f%%; pinning the top %d: %.1f%%)",
				s, p.name, 100*before, size*5, 100*after, size, 100*top)
		}
	}
	// The pool's ARC is golang-lru's ARC (within the noise of a different
	// tie-break) and beats LRU on every skewed load.
	for i := 1; i < 4; i++ {
		if rates["pool-arc"][i] < rates["lru"][i] || rates["pool-arc"][i] < rates["arc"][i]-0.01 {
			t.Errorf("load %d: pool ARC %.3f, lru %.3f, arc %.3f", i, rates["pool-arc"][i], rates["lru"][i], rates["arc"][i])
		}
	}
}

// scanner is a policy with AcquireScan's path: Peek, else Add as a scan.
type scanner interface{ Scan(string) }

// poolARCSim drives the pool's own arc like the caches above.
type poolARCSim struct{ c *arc[struct{}] }

func newPoolARCSim(size int) poolARCSim {
	return poolARCSim{newARC[struct{}](size, func(string, struct{}) {}, nil)}
}

func (p poolARCSim) Get(k string) (struct{}, bool) { return p.c.Get(k) }
func (p poolARCSim) Add(k string, v struct{})      { p.c.Add(k, v, false) }
func (p poolARCSim) Scan(k string) {
	if _, ok := p.c.Peek(k); !ok {
		p.c.Add(k, struct{}{}, true)
	}
}

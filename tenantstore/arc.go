package tenantstore

import "github.com/hashicorp/golang-lru/v2/simplelru"

// arc is ARC, the Adaptive Replacement Cache (Megiddo and Modha), as
// golang-lru's arc/v2 implements it, rebuilt on simplelru so the store
// learns of every eviction (ARCCache drops entries without a callback,
// and an evicted handle must be closed or left draining).
//
// t1 holds tenants seen once recently, t2 tenants seen at least twice;
// b1 and b2 remember the keys each recently evicted (ghosts, a few dozen
// bytes each, at most the pool's size together). A miss that hits a ghost
// moves p, the share of the pool t1 aims for, towards the list that would
// have kept it. On the seeded Zipf loads of TestPolicySimulation it keeps
// the most requests on open handles of LRU, 2Q and ARC
// (docs/PERFORMANCE.md), and scans (Add with scan set) only ever displace
// t1 entries beyond p, leave no ghost and never adapt p.
//
// It is not safe for concurrent use: the Store guards it with its mutex.
type arc[V any] struct {
	size, p int
	t1, t2  *simplelru.LRU[string, V]
	b1, b2  *simplelru.LRU[string, struct{}]
	scans   map[string]struct{} // keys in t1 that only a scan asked for
	onEvict func(string, V)
}

func newARC[V any](size int, onEvict func(string, V)) *arc[V] {
	t1, _ := simplelru.NewLRU[string, V](size, nil) // size > 0
	t2, _ := simplelru.NewLRU[string, V](size, nil)
	b1, _ := simplelru.NewLRU[string, struct{}](size, nil)
	b2, _ := simplelru.NewLRU[string, struct{}](size, nil)
	return &arc[V]{size: size, t1: t1, t2: t2, b1: b1, b2: b2, scans: map[string]struct{}{}, onEvict: onEvict}
}

// Get returns the value of key and counts the access: a key in t1 moves
// to t2 (unless only a scan had asked for it: then this is its first
// access).
func (c *arc[V]) Get(key string) (v V, ok bool) {
	if v, ok = c.t2.Get(key); ok {
		return v, true
	}
	if _, scanned := c.scans[key]; scanned {
		delete(c.scans, key)
		return c.t1.Get(key)
	}
	if v, ok = c.t1.Peek(key); ok {
		c.t1.Remove(key)
		c.t2.Add(key, v)
	}
	return v, ok
}

// Peek returns the value of key without counting an access.
func (c *arc[V]) Peek(key string) (v V, ok bool) {
	if v, ok = c.t2.Peek(key); ok {
		return v, true
	}
	return c.t1.Peek(key)
}

// Add inserts a key that is in neither t1 nor t2 (the store adds only
// after a miss), evicting one entry if the pool is full. scan marks an
// access that must not count as interest (see AcquireScan).
func (c *arc[V]) Add(key string, v V, scan bool) {
	full := c.t1.Len()+c.t2.Len() >= c.size
	if scan {
		c.b1.Remove(key)
		c.b2.Remove(key)
	} else if c.b1.Contains(key) {
		c.p = min(c.p+max(1, c.b2.Len()/c.b1.Len()), c.size)
		if full {
			c.replace(false)
		}
		c.b1.Remove(key)
		c.t2.Add(key, v)
		return
	} else if c.b2.Contains(key) {
		c.p = max(c.p-max(1, c.b1.Len()/c.b2.Len()), 0)
		if full {
			c.replace(true)
		}
		c.b2.Remove(key)
		c.t2.Add(key, v)
		return
	}
	if full {
		c.replace(false)
	}
	if c.b1.Len() > c.size-c.p {
		c.b1.RemoveOldest()
	}
	if c.b2.Len() > c.p {
		c.b2.RemoveOldest()
	}
	c.t1.Add(key, v)
	if scan {
		c.scans[key] = struct{}{}
	}
}

// replace evicts one entry: from t1 while it is over its target p, else
// from t2.
func (c *arc[V]) replace(inB2 bool) {
	n := c.t1.Len()
	if n > 0 && (n > c.p || (n == c.p && inB2) || c.t2.Len() == 0) {
		k, v, _ := c.t1.RemoveOldest()
		if _, scanned := c.scans[k]; scanned {
			delete(c.scans, k)
		} else {
			c.b1.Add(k, struct{}{})
		}
		c.onEvict(k, v)
		return
	}
	k, v, _ := c.t2.RemoveOldest()
	c.b2.Add(k, struct{}{})
	c.onEvict(k, v)
}

// Len is the number of entries in t1 and t2.
func (c *arc[V]) Len() int { return c.t1.Len() + c.t2.Len() }

// Keys returns every key, t1's first, each list oldest first.
func (c *arc[V]) Keys() []string { return append(c.t1.Keys(), c.t2.Keys()...) }

// Purge evicts every entry and forgets the ghosts.
func (c *arc[V]) Purge() {
	for _, l := range []*simplelru.LRU[string, V]{c.t1, c.t2} {
		for {
			k, v, ok := l.RemoveOldest()
			if !ok {
				break
			}
			c.onEvict(k, v)
		}
	}
	c.b1.Purge()
	c.b2.Purge()
	c.p = 0
	clear(c.scans)
}

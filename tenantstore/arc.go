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
// Entries for which pinned reports true are never chosen for eviction
// (a libSQL stream holds its tenant open): replacement passes over them,
// and while every entry is pinned the cache holds more than size entries
// until pins end; the next Adds bring it back under size. The store's
// descriptor budget (2 x size) bounds that overshoot, and the LRU lists
// are sized for it so they never drop an entry on their own.
//
// It is not safe for concurrent use: the Store guards it with its mutex.
type arc[V any] struct {
	size, p int
	t1, t2  *simplelru.LRU[string, V]
	b1, b2  *simplelru.LRU[string, struct{}]
	scans   map[string]struct{} // keys in t1 that only a scan asked for
	onEvict func(string, V)
	pinned  func(V) bool // nil: nothing is pinned
}

func newARC[V any](size int, onEvict func(string, V), pinned func(V) bool) *arc[V] {
	t1, _ := simplelru.NewLRU[string, V](2*size, nil) // size > 0; room for pinned overshoot
	t2, _ := simplelru.NewLRU[string, V](2*size, nil)
	b1, _ := simplelru.NewLRU[string, struct{}](size, nil)
	b2, _ := simplelru.NewLRU[string, struct{}](size, nil)
	return &arc[V]{size: size, t1: t1, t2: t2, b1: b1, b2: b2, scans: map[string]struct{}{}, onEvict: onEvict, pinned: pinned}
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
	if scan {
		c.b1.Remove(key)
		c.b2.Remove(key)
	} else if c.b1.Contains(key) {
		c.p = min(c.p+max(1, c.b2.Len()/c.b1.Len()), c.size)
		c.makeRoom(false)
		c.b1.Remove(key)
		c.t2.Add(key, v)
		return
	} else if c.b2.Contains(key) {
		c.p = max(c.p-max(1, c.b1.Len()/c.b2.Len()), 0)
		c.makeRoom(true)
		c.b2.Remove(key)
		c.t2.Add(key, v)
		return
	}
	c.makeRoom(false)
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

// makeRoom evicts until one more entry fits in size, or only pinned
// entries are left.
func (c *arc[V]) makeRoom(inB2 bool) {
	for c.t1.Len()+c.t2.Len() >= c.size && c.replace(inB2) {
	}
}

// replace evicts one entry: from t1 while it is over its target p, else
// from t2; from the other list when every entry of the chosen one is
// pinned. It reports false when nothing could be evicted.
func (c *arc[V]) replace(inB2 bool) bool {
	n := c.t1.Len()
	fromT1 := n > 0 && (n > c.p || (n == c.p && inB2) || c.t2.Len() == 0)
	lists := [2]*simplelru.LRU[string, V]{c.t2, c.t1}
	if fromT1 {
		lists = [2]*simplelru.LRU[string, V]{c.t1, c.t2}
	}
	for _, l := range lists {
		k, v, ok := c.oldestUnpinned(l)
		if !ok {
			continue
		}
		l.Remove(k)
		if l == c.t2 {
			c.b2.Add(k, struct{}{})
		} else if _, scanned := c.scans[k]; scanned {
			delete(c.scans, k)
		} else {
			c.b1.Add(k, struct{}{})
		}
		c.onEvict(k, v)
		return true
	}
	return false
}

// oldestUnpinned returns l's least recent entry that is not pinned. A
// pinned entry on the way is moved to the front of its list: it is in
// use, so it is as good as recently used, and the next search does not
// walk past it again.
func (c *arc[V]) oldestUnpinned(l *simplelru.LRU[string, V]) (string, V, bool) {
	for range l.Len() {
		k, v, ok := l.GetOldest()
		if !ok {
			break
		}
		if c.pinned == nil || !c.pinned(v) {
			return k, v, true
		}
		l.Get(k) // to the front
	}
	var zero V
	return "", zero, false
}

// Len is the number of entries in t1 and t2.
func (c *arc[V]) Len() int { return c.t1.Len() + c.t2.Len() }

// Remove evicts key (onEvict runs), if it is in t1 or t2.
func (c *arc[V]) Remove(key string) {
	for _, l := range []*simplelru.LRU[string, V]{c.t1, c.t2} {
		if v, ok := l.Peek(key); ok {
			l.Remove(key)
			delete(c.scans, key)
			c.onEvict(key, v)
		}
	}
}

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

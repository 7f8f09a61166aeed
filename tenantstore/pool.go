package tenantstore

import "github.com/hashicorp/golang-lru/v2/simplelru"

// twoQueue is the pool's replacement policy: 2Q (Johnson and Shasha), the
// algorithm of golang-lru's TwoQueueCache, rebuilt on its simplelru so the
// store learns of every eviction (TwoQueueCache drops entries without a
// callback, and an evicted handle must be closed or left draining).
//
// A tenant seen once sits in recent; a second request moves it to
// frequent. When the pool is full, recent gives up its oldest while it
// holds more than its share (a quarter of the pool), else frequent does.
// Keys evicted from recent are remembered in ghost (half the pool, a few
// dozen bytes each), and a ghost that comes back goes straight to
// frequent. On the seeded Zipf loads of TestPolicySimulation this keeps
// more tenants' requests on open handles than LRU and matches ARC
// (docs/PERFORMANCE.md), and a one-off request (a scan) can only displace
// recent, never the tenants that came back.
//
// It is not safe for concurrent use: the Store guards it with its mutex.
type twoQueue[V any] struct {
	size, recentSize int
	recent, frequent *simplelru.LRU[string, V]
	ghost            *simplelru.LRU[string, struct{}]
	scans            map[string]struct{} // keys in recent that only a scan asked for
	onEvict          func(string, V)
}

const (
	recentRatio = 0.25 // golang-lru's Default2QRecentRatio
	ghostRatio  = 0.50 // golang-lru's Default2QGhostEntries
)

func newTwoQueue[V any](size int, onEvict func(string, V)) *twoQueue[V] {
	recent, _ := simplelru.NewLRU[string, V](size, nil) // size > 0
	frequent, _ := simplelru.NewLRU[string, V](size, nil)
	ghost, _ := simplelru.NewLRU[string, struct{}](max(1, int(float64(size)*ghostRatio)), nil)
	return &twoQueue[V]{
		size: size, recentSize: max(1, int(float64(size)*recentRatio)),
		recent: recent, frequent: frequent, ghost: ghost, scans: map[string]struct{}{}, onEvict: onEvict,
	}
}

// Get returns the value of key and counts the access: a key in recent
// moves to frequent.
func (q *twoQueue[V]) Get(key string) (v V, ok bool) {
	if v, ok = q.frequent.Get(key); ok {
		return v, true
	}
	if _, scanned := q.scans[key]; scanned {
		// The first request that is not a scan: a first access.
		delete(q.scans, key)
		return q.recent.Get(key)
	}
	if v, ok = q.recent.Peek(key); ok {
		q.recent.Remove(key)
		q.frequent.Add(key, v)
		return v, true
	}
	return v, false
}

// Peek returns the value of key without counting an access.
func (q *twoQueue[V]) Peek(key string) (v V, ok bool) {
	if v, ok = q.frequent.Peek(key); ok {
		return v, true
	}
	return q.recent.Peek(key)
}

// Add inserts a key that is in neither queue (the store adds only after
// a miss), evicting one entry if the pool is full. scan marks an access
// that must not count as interest: it never enters frequent, even from
// the ghost list, and is not remembered as a ghost when it leaves.
func (q *twoQueue[V]) Add(key string, v V, scan bool) {
	if !scan && q.ghost.Contains(key) {
		q.ghost.Remove(key)
		q.makeRoom(true)
		q.frequent.Add(key, v)
		return
	}
	q.makeRoom(false)
	q.recent.Add(key, v)
	if scan {
		q.scans[key] = struct{}{}
	}
}

// makeRoom evicts one entry when the pool is full (golang-lru's
// ensureSpace).
func (q *twoQueue[V]) makeRoom(ghostHit bool) {
	r := q.recent.Len()
	if r+q.frequent.Len() < q.size {
		return
	}
	if r > 0 && (r > q.recentSize || (r == q.recentSize && !ghostHit)) {
		k, v, _ := q.recent.RemoveOldest()
		if _, scanned := q.scans[k]; scanned {
			delete(q.scans, k)
		} else {
			q.ghost.Add(k, struct{}{})
		}
		q.onEvict(k, v)
		return
	}
	k, v, _ := q.frequent.RemoveOldest()
	q.onEvict(k, v)
}

// Len is the number of entries in both queues.
func (q *twoQueue[V]) Len() int { return q.recent.Len() + q.frequent.Len() }

// Keys returns every key, recent ones first, each queue oldest first.
func (q *twoQueue[V]) Keys() []string { return append(q.recent.Keys(), q.frequent.Keys()...) }

// Purge evicts every entry and forgets the ghosts.
func (q *twoQueue[V]) Purge() {
	for _, l := range []*simplelru.LRU[string, V]{q.recent, q.frequent} {
		for {
			k, v, ok := l.RemoveOldest()
			if !ok {
				break
			}
			q.onEvict(k, v)
		}
	}
	q.ghost.Purge()
	clear(q.scans)
}

package cms

import (
	"context"
	"database/sql"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/condohq/condo"
	"github.com/condohq/condo/webhooks"
)

// Cache is what the readers of tenants' content reuse between requests:
// parsed collections and list totals, and per tenant a generation that
// every write made through a Store of the cache bumps. Whoever builds
// content stores (the server, the scheduler) owns one Cache and builds
// them with Cache.Store, so every writer of this process invalidates
// through one place; a writer that changes content without a Store (a
// user's deletion clears their items' author) calls Invalidate itself.
// Caches of answers built from content (the API's) key their entries by
// Generation, so they are dropped with it.
//
// Entries are keyed by tenant and generation: an entry of an older
// generation is a miss. So a write drops exactly its tenant's entries, at
// the cost of one atomic add, and never another tenant's.
//
// Other processes write too: a second server on the same data directory
// (an overlapping deploy), the CLI, a libSQL client. Their writes bump no
// generation here, so every entry also expires ttl after it was made, ttl
// being the catalog's resolution TTL (--resolve-ttl): every process sees a
// tenant's writes within the same bound it sees a tenant's suspension.
// A generation shared through the database would make foreign writes
// visible sooner, but costs a read on every cached answer; a bounded TTL
// costs nothing and is the promise the README makes for routing already.
//
// A nil *Cache is valid: it caches nothing and its generations stay 0.
type Cache struct {
	gens        sync.Map                               // tenant id → *atomic.Uint64
	collections *lru.Cache[string, timed[*Collection]] // nil: caching off
	totals      *lru.Cache[string, timed[int]]
	ttl         time.Duration    // how long an entry is trusted
	now         func() time.Time // the clock of expiry
	hooks       Hooks            // run around every write of the cache's stores; set before sharing (WithHooks)
}

// timed is a cached value with its expiry.
type timed[T any] struct {
	v       T
	expires time.Time
}

// NewCache returns a cache of at most size collections and size list
// totals, each trusted for ttl by the clock now (nil: time.Now). A size
// or ttl of zero or less caches nothing but still counts generations.
func NewCache(size int, ttl time.Duration, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	c := &Cache{ttl: ttl, now: now}
	if size > 0 && ttl > 0 {
		c.collections, _ = lru.New[string, timed[*Collection]](size)
		c.totals, _ = lru.New[string, timed[int]](size)
	}
	return c
}

// Store returns the content store of one tenant, reading through the
// cache and invalidating it on every write.
func (c *Cache) Store(tenantID string, db condo.DB, mediaDir string) *Store {
	s := New(tenantID, db, mediaDir)
	s.cache = c
	if c != nil {
		s.hooks = c.hooks
	}
	return s
}

// Generation returns the tenant's current generation. Read it before
// reading what an entry is built from: a write racing with the read then
// makes the entry stale (of an older generation), never wrong.
func (c *Cache) Generation(tenant string) uint64 {
	if c == nil {
		return 0
	}
	return c.gen(tenant).Load()
}

// Invalidate drops every cached entry of tenant, here and in the caches
// keyed by its Generation.
func (c *Cache) Invalidate(tenant string) {
	if c != nil {
		c.gen(tenant).Add(1)
	}
}

func (c *Cache) gen(tenant string) *atomic.Uint64 {
	if g, ok := c.gens.Load(tenant); ok {
		return g.(*atomic.Uint64)
	}
	g, _ := c.gens.LoadOrStore(tenant, new(atomic.Uint64))
	return g.(*atomic.Uint64)
}

// key prefixes key with the tenant and a generation of it.
func genKey(tenant string, gen uint64, key string) string {
	return tenant + "\x00" + strconv.FormatUint(gen, 10) + "\x00" + key
}

// CachedCollection returns a collection by name as Collection does, parsed
// once per generation of the tenant's data and at most the cache's TTL
// old. For readers: a write validates against Collection, read fresh.
func (s *Store) CachedCollection(ctx context.Context, name string) (*Collection, error) {
	c := s.cache
	if c == nil || c.collections == nil {
		return s.Collection(ctx, name)
	}
	key := genKey(s.TenantID, c.Generation(s.TenantID), name)
	if e, ok := c.collections.Get(key); ok && c.now().Before(e.expires) {
		return e.v, nil
	}
	col, err := s.Collection(ctx, name)
	if err == nil {
		c.collections.Add(key, timed[*Collection]{col, c.now().Add(c.ttl)})
	}
	return col, err
}

// totals remembers the list totals of one tenant generation, the one
// current when it was made; nil when the store caches nothing.
type totals struct {
	c   *Cache
	key string // genKey(tenant, generation, "")
}

func (s *Store) totals() *totals {
	if s.cache == nil || s.cache.totals == nil {
		return nil
	}
	return &totals{s.cache, genKey(s.TenantID, s.cache.Generation(s.TenantID), "")}
}

func (t *totals) get(key string) (int, bool) {
	if t == nil {
		return 0, false
	}
	e, ok := t.c.totals.Get(t.key + key)
	if !ok || !t.c.now().Before(e.expires) {
		return 0, false
	}
	return e.v, true
}

func (t *totals) put(key string, n int) {
	if t != nil {
		t.c.totals.Add(t.key+key, timed[int]{n, t.c.now().Add(t.c.ttl)})
	}
}

// transact runs fn in a write transaction and, once it commits, drops the
// tenant's cached entries: every write of a Store goes through here.
func (s *Store) transact(ctx context.Context, fn func(*sql.Tx) error) error {
	err := s.DB.Transact(ctx, fn)
	if err == nil {
		s.cache.Invalidate(s.TenantID)
		webhooks.Wake(s.TenantID) // the write may have emitted events (see emit)
	}
	return err
}

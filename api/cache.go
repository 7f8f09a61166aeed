package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/cms"
)

// DefaultContentCache is how many anonymous content answers the server
// keeps, across tenants.
const DefaultContentCache = 10_000

// contentCache keeps the bytes of anonymous reads of published content,
// and the parsed collections and list totals every reader uses.
//
// Within this process, keys start with the tenant id and each tenant has
// a generation, bumped by every write to it made here; an entry of an
// older generation is a miss. So a write drops exactly its tenant's
// entries, at the cost of one atomic add, and never another tenant's.
//
// Other processes write too: a second server on the same data directory
// (an overlapping deploy), the CLI, a libSQL client. Their writes bump no
// generation here, so every entry also expires ttl after it was made, ttl
// being the catalog's resolution TTL (--resolve-ttl): every process sees a
// tenant's writes within the same bound it sees a tenant's suspension.
// A generation shared through the database would make foreign writes
// visible sooner, but costs a read on every cached answer; a bounded TTL
// costs nothing and is the promise the README makes for routing already.
type contentCache struct {
	entries *lru.Cache[string, cachedAnswer] // nil: caching off
	gens    sync.Map                         // tenant id → *atomic.Uint64
	// Parsed collections and list totals, for every reader (signed in or
	// not), under the same generations and expiry.
	collections *lru.Cache[string, timed[*cms.Collection]]
	totals      *lru.Cache[string, timed[int]]
	ttl         time.Duration    // how long an entry is trusted
	now         func() time.Time // the clock of expiry
}

type cachedAnswer struct {
	gen          uint64
	expires      time.Time
	etag         string
	cacheControl string
	body         []byte
}

// timed is a cached value with its expiry.
type timed[T any] struct {
	v       T
	expires time.Time
}

func newContentCache(size int, ttl time.Duration, now func() time.Time) *contentCache {
	c := &contentCache{ttl: ttl, now: now}
	if size > 0 && ttl > 0 {
		c.entries, _ = lru.New[string, cachedAnswer](size)
		c.collections, _ = lru.New[string, timed[*cms.Collection]](size)
		c.totals, _ = lru.New[string, timed[int]](size)
	}
	return c
}

// genKey prefixes key with the tenant and its current generation.
func (cc *contentCache) genKey(tenant string, gen uint64, key string) string {
	return tenant + "\x00" + strconv.FormatUint(gen, 10) + "\x00" + key
}

// collection returns the tenant's collection name, parsed once per
// generation of the tenant's data and TTL.
func (cc *contentCache) collection(ctx context.Context, st *cms.Store, gen uint64, name string) (*cms.Collection, error) {
	if cc.collections == nil {
		return st.Collection(ctx, name)
	}
	key := cc.genKey(st.TenantID, gen, name)
	if e, ok := cc.collections.Get(key); ok && cc.now().Before(e.expires) {
		return e.v, nil
	}
	col, err := st.Collection(ctx, name)
	if err == nil {
		cc.collections.Add(key, timed[*cms.Collection]{col, cc.now().Add(cc.ttl)})
	}
	return col, err
}

// counts remembers list totals of one tenant generation, for the TTL.
func (cc *contentCache) counts(tenant string, gen uint64) cms.Counts {
	if cc.totals == nil {
		return nil
	}
	return tenantCounts{cc, tenant, gen}
}

type tenantCounts struct {
	cc     *contentCache
	tenant string
	gen    uint64
}

func (t tenantCounts) Get(key string) (int, bool) {
	e, ok := t.cc.totals.Get(t.cc.genKey(t.tenant, t.gen, key))
	if !ok || !t.cc.now().Before(e.expires) {
		return 0, false
	}
	return e.v, true
}

func (t tenantCounts) Put(key string, n int) {
	t.cc.totals.Add(t.cc.genKey(t.tenant, t.gen, key), timed[int]{n, t.cc.now().Add(t.cc.ttl)})
}

func (cc *contentCache) gen(tenant string) *atomic.Uint64 {
	if g, ok := cc.gens.Load(tenant); ok {
		return g.(*atomic.Uint64)
	}
	g, _ := cc.gens.LoadOrStore(tenant, new(atomic.Uint64))
	return g.(*atomic.Uint64)
}

// invalidate drops every cached answer of tenant.
func (cc *contentCache) invalidate(tenant string) { cc.gen(tenant).Add(1) }

func cacheKey(tenant string, c echo.Context) string {
	return tenant + "\x00" + c.Request().URL.RequestURI()
}

// serve answers from the cache when it holds a current answer.
func (cc *contentCache) serve(c echo.Context, tenant string) (bool, error) {
	if cc.entries == nil {
		return false, nil
	}
	key := cacheKey(tenant, c)
	a, ok := cc.entries.Get(key)
	if !ok || a.gen != cc.gen(tenant).Load() {
		return false, nil
	}
	if !cc.now().Before(a.expires) {
		cc.entries.Remove(key)
		return false, nil
	}
	c.Response().Header().Set("X-Cache", "hit")
	setCacheControl(c, a.cacheControl)
	return true, writeTagged(c, http.StatusOK, a.etag, a.body)
}

// answer encodes v, keeps it when cacheable, and writes it with its ETag
// (etag; "" for one made of the body) and Cache-Control. The generation
// is read before the answer was built (by the caller), so a write racing
// with the read makes the entry stale, never wrong.
func (cc *contentCache) answer(c echo.Context, tenant string, gen uint64, cacheable bool, etag, cacheControl string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if etag == "" {
		etag = etagOf(body)
	}
	if cacheable && cc.entries != nil {
		cc.entries.Add(cacheKey(tenant, c), cachedAnswer{gen: gen, expires: cc.now().Add(cc.ttl), etag: etag, cacheControl: cacheControl, body: body})
	}
	setCacheControl(c, cacheControl)
	return writeTagged(c, http.StatusOK, etag, body)
}

// sendTagged writes v as JSON with an ETag, answering 304 when the
// client's If-None-Match has it.
func sendTagged(c echo.Context, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeTagged(c, status, etagOf(body), body)
}

func writeTagged(c echo.Context, status int, etag string, body []byte) error {
	h := c.Response().Header()
	h.Set("ETag", etag)
	if inm := c.Request().Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(status, echo.MIMEApplicationJSON, body)
}

// etagOf is a strong validator of a body: its 64-bit FNV-1a, quoted.
func etagOf(body []byte) string {
	h := fnv.New64a()
	h.Write(body)
	var sum [8]byte
	return `"` + hex.EncodeToString(h.Sum(sum[:0])) + `"`
}

// etagMatch reports whether an If-None-Match list names etag (or is *).
func etagMatch(header, etag string) bool {
	for len(header) > 0 {
		var tag string
		tag, header, _ = strings.Cut(header, ",")
		tag = strings.TrimSpace(tag)
		if tag == "*" || tag == etag || tag == "W/"+etag {
			return true
		}
	}
	return false
}

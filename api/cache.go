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

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/cms"
)

// DefaultContentCache is how many anonymous content answers the server
// keeps, across tenants.
const DefaultContentCache = 10_000

// contentCache keeps the bytes of anonymous reads of published content.
// Keys start with the tenant id; each tenant has a generation, bumped by
// every write to it, and an entry of an older generation is a miss. So a
// write drops exactly its tenant's entries, at the cost of one atomic add,
// and never another tenant's.
type contentCache struct {
	entries *lru.Cache[string, cachedAnswer] // nil: caching off
	gens    sync.Map                         // tenant id → *atomic.Uint64
	// Parsed collections and list totals, for every reader (signed in or
	// not), under the same generations.
	collections *lru.Cache[string, *cms.Collection]
	totals      *lru.Cache[string, int]
}

type cachedAnswer struct {
	gen  uint64
	etag string
	body []byte
}

func newContentCache(size int) *contentCache {
	c := &contentCache{}
	if size > 0 {
		c.entries, _ = lru.New[string, cachedAnswer](size)
		c.collections, _ = lru.New[string, *cms.Collection](size)
		c.totals, _ = lru.New[string, int](size)
	}
	return c
}

// genKey prefixes key with the tenant and its current generation.
func (cc *contentCache) genKey(tenant string, gen uint64, key string) string {
	return tenant + "\x00" + strconv.FormatUint(gen, 10) + "\x00" + key
}

// collection returns the tenant's collection name, parsed once per
// generation of the tenant's data.
func (cc *contentCache) collection(ctx context.Context, st *cms.Store, gen uint64, name string) (*cms.Collection, error) {
	if cc.collections == nil {
		return st.Collection(ctx, name)
	}
	key := cc.genKey(st.TenantID, gen, name)
	if col, ok := cc.collections.Get(key); ok {
		return col, nil
	}
	col, err := st.Collection(ctx, name)
	if err == nil {
		cc.collections.Add(key, col)
	}
	return col, err
}

// counts remembers list totals of one tenant generation.
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
	return t.cc.totals.Get(t.cc.genKey(t.tenant, t.gen, key))
}

func (t tenantCounts) Put(key string, n int) { t.cc.totals.Add(t.cc.genKey(t.tenant, t.gen, key), n) }

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
	a, ok := cc.entries.Get(cacheKey(tenant, c))
	if !ok || a.gen != cc.gen(tenant).Load() {
		return false, nil
	}
	c.Response().Header().Set("X-Cache", "hit")
	return true, writeTagged(c, http.StatusOK, a.etag, a.body)
}

// answer encodes v, keeps it when cacheable, and writes it with its ETag.
// The generation is read before the answer was built (by the caller), so
// a write racing with the read makes the entry stale, never wrong.
func (cc *contentCache) answer(c echo.Context, tenant string, gen uint64, cacheable bool, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	etag := etagOf(body)
	if cacheable && cc.entries != nil {
		cc.entries.Add(cacheKey(tenant, c), cachedAnswer{gen: gen, etag: etag, body: body})
	}
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

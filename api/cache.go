package api

import (
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/cms"
)

// DefaultContentCache is how many anonymous content answers the server
// keeps, across tenants; contentCacheBytes bounds their bodies' bytes
// (a search or a list of 20 is 15-30 KB, so 10,000 of them would be
// 300 MB).
const (
	DefaultContentCache = 10_000
	contentCacheBytes   = 64 << 20
)

// contentCache keeps the bytes of anonymous reads of published content.
// Its entries carry the generation of their tenant in the content cache
// (cms.Cache) read before the answer was built, and are a miss once the
// generation moved: every write through a cms store of that cache bumps
// it, so a write drops exactly its tenant's answers. Like the content
// cache's entries, answers also expire ttl after they were made (the
// catalog's resolution TTL), which bounds how long another process's
// writes stay unseen (see cms.Cache).
type contentCache struct {
	entries  *lru.Cache[string, cachedAnswer] // nil: caching off
	bytes    atomic.Int64                     // of the entries' bodies (see keep)
	adding   sync.Mutex                       // serialises keep
	maxBytes int64                            // contentCacheBytes; tests lower it
	content  *cms.Cache                       // the generations; parsed collections and list totals
	ttl      time.Duration                    // how long an entry is trusted
	now      func() time.Time                 // the clock of expiry
}

type cachedAnswer struct {
	gen          uint64
	expires      time.Time
	etag         string
	cacheControl string
	body         []byte
}

func newContentCache(size int, ttl time.Duration, now func() time.Time, content *cms.Cache) *contentCache {
	c := &contentCache{content: content, ttl: ttl, now: now, maxBytes: contentCacheBytes}
	if size > 0 && ttl > 0 {
		c.entries, _ = lru.NewWithEvict(size, func(_ string, a cachedAnswer) { c.bytes.Add(-int64(len(a.body))) })
	}
	return c
}

// keep adds an answer, evicting the least recently used ones while the
// bodies pass contentCacheBytes. The lru calls the eviction function on
// every removal but not when Add replaces a key, so keep removes the old
// entry first, under adding so that two keeps of one key cannot both
// miss it.
func (cc *contentCache) keep(key string, a cachedAnswer) {
	cc.adding.Lock()
	defer cc.adding.Unlock()
	cc.entries.Remove(key)
	cc.bytes.Add(int64(len(a.body)))
	cc.entries.Add(key, a)
	for cc.bytes.Load() > cc.maxBytes && cc.entries.Len() > 1 {
		cc.entries.RemoveOldest()
	}
}

// gen is the tenant's current generation; read it before building an
// answer to keep.
func (cc *contentCache) gen(tenant string) uint64 { return cc.content.Generation(tenant) }

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
	if !ok || a.gen != cc.gen(tenant) {
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
	return cc.answerBody(c, tenant, gen, cacheable, etag, cacheControl, body)
}

// answerBody is answer with v already encoded.
func (cc *contentCache) answerBody(c echo.Context, tenant string, gen uint64, cacheable bool, etag, cacheControl string, body []byte) error {
	if etag == "" {
		etag = etagOf(body)
	}
	if cacheable && cc.entries != nil {
		cc.keep(cacheKey(tenant, c), cachedAnswer{gen: gen, expires: cc.now().Add(cc.ttl), etag: etag, cacheControl: cacheControl, body: body})
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

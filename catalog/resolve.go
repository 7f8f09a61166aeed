package catalog

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/condohq/condo"
)

// ResolveHost maps a request to its tenant (with its domains):
// "<subdomain>.<base domain>" of an existing tenant, else the exact custom
// domain, else (with HeaderFallback) the tenant named by headerID, else
// (with DefaultTenant, and for a host that is not a subdomain under the
// base domain) the default tenant. A tenant's own subdomain comes first,
// so a custom domain under the base domain can never shadow it. Results,
// misses included, are cached for CacheTTL.
//
// Errors: ENOTFOUND (tenant_not_found) when nothing matches, EFORBIDDEN
// (tenant_suspended), EGONE (tenant_archived), EINVALID for a header value
// that is not a tenant id.
func (c *Catalog) ResolveHost(ctx context.Context, host, headerID string) (*Tenant, error) {
	t, err := c.ResolveAny(ctx, host, headerID)
	if err != nil {
		return nil, err
	}
	return servable(t)
}

// ResolveAny is ResolveHost without the refusals of a tenant's status:
// the tenant a host reaches, suspended or archived too (to wake an
// archived tenant on its first request).
func (c *Catalog) ResolveAny(ctx context.Context, host, headerID string) (*Tenant, error) {
	host = condo.NormalizeHost(host)
	if len(host) > 253 {
		host = "" // not a host name; never a cache key
	}
	base := c.BaseDomain(ctx) // re-read every CacheTTL, even while every host is cached
	t, err := c.cached(ctx, "h:"+host, func(ctx context.Context) (*Tenant, error) {
		// Read again once the cache has taken its generation, so a
		// lookup never caches an old base domain's answer as current.
		base := c.BaseDomain(ctx)
		t, err := c.lookupHost(ctx, host, base)
		if t == nil && err == nil {
			t = c.deletedAt(ctx, host, base) // cached like any miss: a flood of made-up hosts reads nothing
		}
		return t, err
	})
	if err != nil {
		return nil, err
	}
	if t != nil && t.Status == statusDeleted {
		return nil, deletedError(&Tombstone{ID: t.ID, DeletedAt: &t.UpdatedAt})
	}
	if t == nil && c.cfg.HeaderFallback && headerID != "" {
		if err := condo.ValidateTenantID(headerID); err != nil {
			return nil, err
		}
		t, err = c.cached(ctx, "t:"+headerID, func(ctx context.Context) (*Tenant, error) { return c.lookupID(ctx, headerID) })
		if err != nil {
			return nil, err
		}
	}
	if id := c.cfg.DefaultTenant; t == nil && id != "" && !isSubdomainHost(host, base) {
		t, err = c.cached(ctx, "t:"+id, func(ctx context.Context) (*Tenant, error) { return c.lookupID(ctx, id) })
		if err != nil {
			return nil, err
		}
	}
	if t == nil {
		return nil, condo.ReasonErrorf(condo.ENOTFOUND, "tenant_not_found", "no tenant is served at %s", condo.Clip(host))
	}
	return t, nil
}

// statusDeleted marks the cached answer of a deleted tenant's subdomain:
// never a tenant's status, so nothing serves it (ResolveAny answers 410).
const statusDeleted = "deleted"

// deletedAt is what a subdomain host no tenant has resolves to when a
// deleted tenant had it: a marker with the time of the delete; nil when
// none did.
func (c *Catalog) deletedAt(ctx context.Context, host, base string) *Tenant {
	label, ok := strings.CutSuffix(host, "."+base)
	if !ok || !isSubdomainHost(host, base) {
		return nil
	}
	ts, err := c.Tombstone(ctx, label)
	if err != nil || ts.State != TombstoneDeleted {
		return nil
	}
	return &Tenant{ID: label, Status: statusDeleted, UpdatedAt: *ts.DeletedAt}
}

// ResolveID is ResolveHost for a request that names its tenant by id
// (the /_condo/tenants/<id> routes, which need no DNS): the same cache,
// the same refusals.
func (c *Catalog) ResolveID(ctx context.Context, id string) (*Tenant, error) {
	if err := condo.ValidateTenantID(id); err != nil {
		return nil, err
	}
	t, err := c.cached(ctx, "t:"+id, func(ctx context.Context) (*Tenant, error) { return c.lookupID(ctx, id) })
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, condo.ReasonErrorf(condo.ENOTFOUND, "tenant_not_found", "no tenant %s", id)
	}
	return servable(t)
}

// servable refuses a resolved tenant that may not serve requests.
func servable(t *Tenant) (*Tenant, error) {
	switch {
	case t.Status == StatusSuspended:
		return nil, condo.ReasonErrorf(condo.EFORBIDDEN, "tenant_suspended", "tenant %s is suspended", t.ID)
	case t.Status == StatusArchived:
		return nil, condo.ReasonErrorf(condo.EGONE, "tenant_archived", "tenant %s is archived", t.ID)
	}
	return t, nil
}

// lookupHost finds the tenant of a normalised host under base, nil when
// none. A tenant's subdomain wins over a custom domain naming the same
// host: custom domains are refused there now, but one may have been added
// under another base domain before.
func (c *Catalog) lookupHost(ctx context.Context, host, base string) (*Tenant, error) {
	if !strings.Contains(host, ".") || len(host) > 253 {
		return nil, nil // a bare name such as "localhost", or no host name at all
	}
	if isSubdomainHost(host, base) {
		label := strings.TrimSuffix(host, "."+base)
		t, err := c.scanTenant(c.db.Reader().QueryRowContext(ctx, selectTenant+" WHERE subdomain = ?", label))
		if condo.ErrorCode(notFound(err, "")) != condo.ENOTFOUND {
			return t, err
		}
	}
	t, err := c.scanTenant(c.db.Reader().QueryRowContext(ctx,
		selectTenant+" WHERE id = (SELECT tenant_id FROM tenant_domains WHERE domain = ?)", host))
	if condo.ErrorCode(notFound(err, "")) == condo.ENOTFOUND {
		return nil, nil
	}
	return t, err
}

func (c *Catalog) lookupID(ctx context.Context, id string) (*Tenant, error) {
	t, err := c.scanTenant(c.db.Reader().QueryRowContext(ctx, selectTenant+" WHERE id = ?", id))
	if condo.ErrorCode(notFound(err, "")) == condo.ENOTFOUND {
		return nil, nil
	}
	return t, err
}

// cached returns the cached lookup of key, running load on a miss or after
// the entry's TTL. A nil tenant (no match) is cached too, so a flood of
// unknown hosts costs one query each per TTL and no more memory than the
// cache's bound. When the catalog cannot answer, the last known answer is
// served instead (see stale.go); with none, EUNAVAILABLE.
func (c *Catalog) cached(ctx context.Context, key string, load func(ctx context.Context) (*Tenant, error)) (*Tenant, error) {
	if t, ok := c.cache.Get(key); ok {
		return t, nil
	}
	gen := c.cache.Generation()
	var t *Tenant
	var err error = errUnreachable
	if c.probe() {
		lctx, cancel := context.WithTimeout(ctx, LookupTimeout)
		t, err = load(lctx)
		if err == nil && t != nil {
			t.Domains, err = c.Domains(lctx, t.ID)
		}
		cancel()
		if err != nil {
			c.unreachable(ctx, err)
		} else {
			c.reachable()
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		if t, ok := c.staleAnswer(key); ok {
			c.stale.served.Add(1)
			return t, nil
		}
		if condo.ErrorCode(err) == condo.EINTERNAL {
			err = errUnreachable
		}
		return nil, err
	}
	c.cache.Add(gen, key, t)
	return t, nil
}

// resolveCache is a bounded LRU of lookups with a TTL. Each entry carries
// the generation it was loaded in; Purge starts a new generation, so a
// lookup that began before a change cannot re-add what the change made
// stale.
type resolveCache struct {
	ttl time.Duration
	lru *lru.Cache[string, cacheEntry]
	gen atomic.Uint64
	// hits and misses count Get's answers, for /metrics.
	hits, misses atomic.Int64
}

type cacheEntry struct {
	tenant  *Tenant
	expires time.Time
	gen     uint64
}

func newResolveCache(size int, ttl time.Duration) *resolveCache {
	l, _ := lru.New[string, cacheEntry](size) // Open makes size positive
	return &resolveCache{ttl: ttl, lru: l}
}

func (rc *resolveCache) Generation() uint64 { return rc.gen.Load() }

func (rc *resolveCache) Get(key string) (*Tenant, bool) {
	e, ok := rc.lru.Get(key)
	if !ok || e.gen != rc.gen.Load() || time.Now().After(e.expires) {
		rc.misses.Add(1)
		return nil, false
	}
	rc.hits.Add(1)
	return e.tenant, true
}

func (rc *resolveCache) Add(gen uint64, key string, t *Tenant) {
	rc.lru.Add(key, cacheEntry{tenant: t, expires: time.Now().Add(rc.ttl), gen: gen})
}

// ResolveCounts is how many host and id resolutions the cache answered
// (Hits) and how many it sent to the catalog (Misses) since Open.
type ResolveCounts struct {
	Hits   int64 `json:"hits"`
	Misses int64 `json:"misses"`
}

// ResolveCounts reports the resolution cache's hits and misses.
func (c *Catalog) ResolveCounts() ResolveCounts {
	return ResolveCounts{Hits: c.cache.hits.Load(), Misses: c.cache.misses.Load()}
}

// Peek returns key's entry however old: the last answer known, for when
// the catalog cannot give a fresh one. Purge drops them all.
func (rc *resolveCache) Peek(key string) (*Tenant, bool) {
	e, ok := rc.lru.Peek(key)
	if !ok || e.gen != rc.gen.Load() {
		return nil, false
	}
	return e.tenant, true
}

// Purge invalidates every entry at once.
func (rc *resolveCache) Purge() {
	rc.gen.Add(1)
	rc.lru.Purge()
}

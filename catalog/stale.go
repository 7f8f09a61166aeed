package catalog

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/libsqldb"
)

// Stale-while-unavailable. A node whose catalog is a shared control plane
// (OpenURL) must not fail every request when the network to it does: host
// resolution answers from what it last knew (an expired cache entry, else
// the list of known tenants that RunKnown keeps), counts each such
// answer, and remembers when the control plane became unreachable. While
// it is, one lookup per ProbeInterval goes to the catalog to notice its
// return; the others answer at once instead of each waiting on a dead
// network.

// Defaults of stale-while-unavailable.
const (
	// DefaultKnownTenants bounds the list of known tenants (active
	// ones, by id): the cache holds whatever else was resolved lately.
	DefaultKnownTenants = 1000
	// DefaultKnownRefresh is how often RunKnown reloads the list.
	DefaultKnownRefresh = 30 * time.Second
	// ProbeInterval is how often, while the catalog is unreachable, a
	// lookup tries it again.
	ProbeInterval = time.Second
	// LookupTimeout bounds one resolution's catalog queries, so that a
	// catalog that hangs (rather than refusing) falls back as quickly.
	LookupTimeout = 2 * time.Second
)

// errUnreachable answers a lookup that neither the catalog nor what the
// node knew could answer.
var errUnreachable = condo.ReasonErrorf(condo.EUNAVAILABLE, "catalog_unavailable",
	"the control plane cannot be reached and this node does not know this host; retry shortly")

// staleState is the catalog's view of its own reachability. Its fields are
// atomics: every request reads them.
type staleState struct {
	served    atomic.Uint64                // answers given from stale knowledge
	since     atomic.Int64                 // unix ns the current outage began; 0: reachable
	nextProbe atomic.Int64                 // unix ns before which no lookup tries the catalog
	lastErr   atomic.Pointer[string]       // the outage's last error, redacted
	known     atomic.Pointer[knownTenants] // nil until RunKnown's first load
}

// knownTenants is a snapshot of active tenants by host and by id.
type knownTenants struct {
	byHost map[string]*Tenant
	byID   map[string]*Tenant
	at     time.Time
}

// Availability is what /readyz shows of the catalog.
type Availability struct {
	Reachable bool `json:"reachable"`
	// UnreachableSince is when the current outage began (nil: none).
	UnreachableSince *time.Time `json:"unreachable_since,omitempty"`
	// Error is the outage's last error, with every URL redacted.
	Error string `json:"error,omitempty"`
	// StaleServed counts resolutions answered from stale knowledge since
	// the process started (a counter, for the metrics of issue 14).
	StaleServed uint64 `json:"stale_served"`
	// KnownTenants is the size of the list of known tenants, and
	// KnownAt when it was loaded (nil: never).
	KnownTenants int        `json:"known_tenants"`
	KnownAt      *time.Time `json:"known_at,omitempty"`
}

// Availability reports the catalog's reachability as lookups last found it.
func (c *Catalog) Availability() Availability {
	a := Availability{Reachable: true, StaleServed: c.stale.served.Load()}
	if ns := c.stale.since.Load(); ns != 0 {
		t := time.Unix(0, ns).UTC()
		a.Reachable, a.UnreachableSince = false, &t
		if e := c.stale.lastErr.Load(); e != nil {
			a.Error = *e
		}
	}
	if k := c.stale.known.Load(); k != nil {
		at := k.at.UTC()
		a.KnownTenants, a.KnownAt = len(k.byID), &at
	}
	return a
}

// StaleServed counts resolutions answered from stale knowledge.
func (c *Catalog) StaleServed() uint64 { return c.stale.served.Load() }

// probe reports whether a lookup should query the catalog: always while
// it is reachable; during an outage, one lookup per ProbeInterval.
func (c *Catalog) probe() bool {
	if c.stale.since.Load() == 0 {
		return true
	}
	now, next := time.Now().UnixNano(), c.stale.nextProbe.Load()
	return now >= next && c.stale.nextProbe.CompareAndSwap(next, now+int64(ProbeInterval))
}

// reachable records a query that the catalog answered.
func (c *Catalog) reachable() {
	if c.stale.since.Load() != 0 {
		c.stale.since.Store(0)
	}
}

// unreachable records a query the catalog failed to answer. A caller that
// went away (its context ended) says nothing about the catalog.
func (c *Catalog) unreachable(ctx context.Context, err error) {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return
	}
	now := time.Now().UnixNano()
	if c.stale.since.CompareAndSwap(0, now) {
		c.stale.nextProbe.Store(now + int64(ProbeInterval))
	}
	msg := condo.Clip(libsqldb.RedactError(err))
	c.stale.lastErr.Store(&msg)
}

// staleAnswer is what the node last knew of key, if anything: the cache's
// entry however old, else the known tenants.
func (c *Catalog) staleAnswer(key string) (*Tenant, bool) {
	if t, ok := c.cache.Peek(key); ok {
		return t, true
	}
	k := c.stale.known.Load()
	if k == nil || len(key) < 2 {
		return nil, false
	}
	var t *Tenant
	switch key[:2] {
	case "h:":
		t = k.byHost[key[2:]]
	case "t:":
		t = k.byID[key[2:]]
	}
	return t, t != nil
}

// RefreshKnown reloads the list of known tenants: the first
// DefaultKnownTenants active tenants by id, with their domains. On a
// failure the last list stays.
func (c *Catalog) RefreshKnown(ctx context.Context) error {
	list, _, err := c.Tenants(ctx, TenantFilter{Status: StatusActive, Limit: DefaultKnownTenants})
	if err != nil {
		c.unreachable(ctx, err)
		return err
	}
	c.reachable()
	base := c.BaseDomain(ctx)
	k := &knownTenants{byHost: map[string]*Tenant{}, byID: map[string]*Tenant{}, at: time.Now()}
	for _, t := range list {
		k.byID[t.ID] = t
		k.byHost[t.Subdomain+"."+base] = t
		for _, d := range t.Domains {
			if _, taken := k.byHost[d.Domain]; !taken { // a tenant's subdomain wins, as in lookupHost
				k.byHost[d.Domain] = t
			}
		}
	}
	c.stale.known.Store(k)
	return nil
}

// RunKnown refreshes the list of known tenants every interval
// (DefaultKnownRefresh when not positive) until ctx ends. serve owns it,
// as one of its jobs' loops.
func (c *Catalog) RunKnown(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultKnownRefresh
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		c.RefreshKnown(ctx) // a failure is recorded in Availability; the last list stays
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

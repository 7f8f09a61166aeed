// Package plans owns the pricing tiers tenants are on: their definitions
// (built in, or read from the operator's --plans file), the limits and
// features each allows, and the per-tenant request rate limiters that
// enforce requests_per_second. It does no I/O beyond reading the plans
// file and never talks HTTP: the api asks it questions and answers the
// client.
package plans

import (
	"cmp"
	"log/slog"
	"slices"
	"sync"
)

// Feature names something a plan may allow or not.
type Feature string

// Features a plan gates.
const (
	LibSQL        Feature = "libsql"         // the libSQL (Hrana) endpoint
	CustomDomains Feature = "custom_domains" // custom domains (custom_domains > 0)
	APITokens     Feature = "api_tokens"     // API tokens (api_tokens > 0)
	Webhooks      Feature = "webhooks"       // tenant webhooks
	Plugins       Feature = "plugins"        // at least one plugin may be enabled
)

// Unlimited is the value of a count limit with no cap (-1 in a plans
// file, or "unlimited").
const Unlimited int64 = -1

// Plan is one tier's limits. A count of 0 allows none; Unlimited, any
// number. Values handed out by a Set are shared: treat them as read-only.
type Plan struct {
	Name string `json:"name"`
	// StorageQuota caps the tenant's database (page_count * page_size)
	// plus its media, in bytes. It seeds the tenant's own storage_quota
	// in the catalog (which an operator may change per tenant).
	StorageQuota int64 `json:"storage_quota"`
	// UserLimit caps the tenant's users (seeds the tenant's user_limit).
	UserLimit int64 `json:"user_limit"`
	// ItemsPerCollection caps the items (trash included) of one collection.
	ItemsPerCollection int64 `json:"items_per_collection"`
	// MediaFileSize caps one media file, in bytes.
	MediaFileSize int64 `json:"media_file_size"`
	// RequestsPerSecond and Burst size the tenant's token bucket: Burst
	// requests at once, refilled at RequestsPerSecond. 0 requests per
	// second is no rate limit.
	RequestsPerSecond float64 `json:"requests_per_second"`
	Burst             int     `json:"burst"`
	// LibSQL allows the libSQL endpoint.
	LibSQL bool `json:"libsql"`
	// CustomDomains, APITokens and WebhookLimit cap how many of each the
	// tenant may have (0: the feature is off).
	CustomDomains int64 `json:"custom_domains"`
	APITokens     int64 `json:"api_tokens"`
	Webhooks      int64 `json:"webhooks"`
	// PluginsAllowed lists the plugins the tenant may enable; AllPlugins
	// allows every one.
	PluginsAllowed []string `json:"plugins_allowed"`
	AllPlugins     bool     `json:"all_plugins"`
}

// Allows reports whether the plan allows f at all.
func (p *Plan) Allows(f Feature) bool {
	switch f {
	case LibSQL:
		return p.LibSQL
	case CustomDomains:
		return p.CustomDomains != 0
	case APITokens:
		return p.APITokens != 0
	case Webhooks:
		return p.Webhooks != 0
	case Plugins:
		return p.AllPlugins || len(p.PluginsAllowed) > 0
	}
	return false
}

// AllowsPlugin reports whether the plan lets a tenant enable plugin name.
func (p *Plan) AllowsPlugin(name string) bool {
	return p.AllPlugins || slices.Contains(p.PluginsAllowed, name)
}

// Within reports whether n things fit a count limit (Unlimited: always).
func Within(n, limit int64) bool { return limit == Unlimited || n <= limit }

// Fallback is the plan a tenant whose plan no definition names is
// treated as on.
const Fallback = "free"

// Set is the plans a process knows, by name. It is safe for concurrent
// use; it never changes after it is built.
type Set struct {
	plans  map[string]*Plan
	names  []string // sorted
	logger *slog.Logger
	warned sync.Map // plan names already logged as unknown
}

// NewSet builds a Set of ps, which must include Fallback (Parse checks).
func NewSet(ps []*Plan, logger *slog.Logger) *Set {
	s := &Set{plans: map[string]*Plan{}, logger: cmp.Or(logger, slog.New(slog.DiscardHandler))}
	for _, p := range ps {
		s.plans[p.Name] = p
		s.names = append(s.names, p.Name)
	}
	slices.Sort(s.names)
	return s
}

// WithLogger returns s logging to l (unknown plan names).
func (s *Set) WithLogger(l *slog.Logger) *Set {
	ps := make([]*Plan, 0, len(s.names))
	for _, n := range s.names {
		ps = append(ps, s.plans[n])
	}
	return NewSet(ps, l)
}

// Lookup returns the plan called name, if the set has one.
func (s *Set) Lookup(name string) (*Plan, bool) {
	p, ok := s.plans[name]
	return p, ok
}

// For returns the plan a tenant on plan name is held to: that plan, or,
// when no definition names it (a plans file that dropped a plan tenants
// are still on), Fallback's, logged once per name per process so the
// operator sees it without a line per request.
func (s *Set) For(name string) *Plan {
	if p, ok := s.plans[name]; ok {
		return p
	}
	if _, seen := s.warned.LoadOrStore(name, true); !seen {
		s.logger.Warn("tenant on an unknown plan: holding it to the fallback plan's limits", "plan", name, "fallback", Fallback)
	}
	return s.plans[Fallback]
}

// Names lists the plans' names, sorted.
func (s *Set) Names() []string { return s.names }

// All lists the plans, sorted by name.
func (s *Set) All() []*Plan {
	out := make([]*Plan, 0, len(s.names))
	for _, n := range s.names {
		out = append(out, s.plans[n])
	}
	return out
}

// Unmetered returns s without request rate limits, its other limits
// kept: for tests and benchmarks that send one tenant more requests
// than a plan's rate allows.
func (s *Set) Unmetered() *Set {
	ps := make([]*Plan, 0, len(s.names))
	for _, n := range s.names {
		p := *s.plans[n]
		p.RequestsPerSecond, p.Burst = 0, 0
		ps = append(ps, &p)
	}
	return NewSet(ps, s.logger)
}

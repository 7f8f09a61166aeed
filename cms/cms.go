// Package cms is the content capability of one tenant: collections and
// their field schemas, items validated against them, versions, the trash,
// workflow and scheduled publishing, SonicJS-compatible queries, full-text
// search and media. A Store works on one tenant's database (and media
// folder) and nothing else.
package cms

import (
	"encoding/json"
	"time"

	"github.com/condohq/condo"
)

// Store does content work on one tenant's database.
type Store struct {
	TenantID string
	DB       condo.DB
	// MediaDir is the tenant's media folder, <data>/tenants/<id>/media.
	MediaDir string
	now      func() time.Time
	cache    *Cache // nil: nothing cached (see Cache.Store)
	hooks    Hooks  // nil: none (see Cache.WithHooks)
}

// New returns the content store of one tenant, caching nothing; a
// server's stores come from its Cache (Cache.Store).
func New(tenantID string, db condo.DB, mediaDir string) *Store {
	return &Store{TenantID: tenantID, DB: db, MediaDir: mediaDir, now: time.Now}
}

// Collection is a content type: a name and the schema of its items' data.
type Collection struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	DisplayName string  `json:"display_name"`
	Description string  `json:"description"`
	Schema      *Schema `json:"schema"`
	Public      bool    `json:"public"`
	// Cache is how long shared caches may keep anonymous reads of the
	// collection's published items.
	Cache CachePolicy `json:"cache"`
	// Version counts the collection's changes: 1 when created, one more
	// with every update.
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Defaults of a CachePolicy: short, so an edit reaches readers behind a
// CDN within about a minute and a half, while a burst of readers costs
// the server one request per minute per URL.
const (
	DefaultMaxAge               = 60
	DefaultStaleWhileRevalidate = 30
	// MaxCacheSeconds bounds both settings: a year.
	MaxCacheSeconds = 365 * 24 * 3600
)

// CachePolicy is what the API says in Cache-Control to shared caches
// (CDNs, proxies, browsers) about an anonymous read of a public
// collection's published items: "public, max-age=MaxAge,
// stale-while-revalidate=StaleWhileRevalidate". A nil field takes its
// default (DefaultMaxAge, DefaultStaleWhileRevalidate). Reads that need a
// credential or include drafts are never cacheable, whatever the policy.
type CachePolicy struct {
	MaxAge               *int `json:"max_age,omitempty"`
	StaleWhileRevalidate *int `json:"stale_while_revalidate,omitempty"`
}

// Seconds returns the policy's max-age and stale-while-revalidate, with
// the defaults filled in.
func (p CachePolicy) Seconds() (maxAge, stale int) {
	maxAge, stale = DefaultMaxAge, DefaultStaleWhileRevalidate
	if p.MaxAge != nil {
		maxAge = *p.MaxAge
	}
	if p.StaleWhileRevalidate != nil {
		stale = *p.StaleWhileRevalidate
	}
	return maxAge, stale
}

func (p CachePolicy) validate() error {
	for name, v := range map[string]*int{"cache.max_age": p.MaxAge, "cache.stale_while_revalidate": p.StaleWhileRevalidate} {
		if v != nil && (*v < 0 || *v > MaxCacheSeconds) {
			return condo.ReasonErrorf(condo.EINVALID, "invalid_cache", "%s is a number of seconds from 0 to %d", name, MaxCacheSeconds)
		}
	}
	return nil
}

// Workflow statuses.
const (
	StatusDraft     = "draft"
	StatusReview    = "review"
	StatusPublished = "published"
	StatusArchived  = "archived"
)

// Item is one piece of content, as the API reads it.
type Item struct {
	ID          string          `json:"id"`
	Collection  string          `json:"collection"`
	Title       string          `json:"title"`
	Slug        string          `json:"slug"`
	Status      string          `json:"status"`
	Data        json.RawMessage `json:"data"` // as stored: validated and sanitized on write
	Version     int             `json:"version"`
	AuthorID    string          `json:"author_id,omitempty"`
	PublishedAt *time.Time      `json:"published_at,omitempty"`
	PublishAt   *time.Time      `json:"publish_at,omitempty"`
	UnpublishAt *time.Time      `json:"unpublish_at,omitempty"`
	DeletedAt   *time.Time      `json:"deleted_at,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	// Included holds referenced items expanded by include=, by field.
	Included map[string]any `json:"included,omitempty"`
}

// rawJSON marshals v, which is always marshalable here.
func rawJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Package cms is the content capability of one tenant: collections and
// their field schemas, items validated against them, versions, the trash,
// workflow and scheduled publishing, SonicJS-compatible queries, full-text
// search and media. A Store works on one tenant's database (and media
// folder) and nothing else.
package cms

import (
	"encoding/json"
	"time"

	"github.com/condohq/condo/sqlitedb"
)

// Store does content work on one tenant's database.
type Store struct {
	TenantID string
	DB       *sqlitedb.DB
	// MediaDir is the tenant's media folder, <data>/tenants/<id>/media.
	MediaDir string
	now      func() time.Time
}

// New returns the content store of one tenant.
func New(tenantID string, db *sqlitedb.DB, mediaDir string) *Store {
	return &Store{TenantID: tenantID, DB: db, MediaDir: mediaDir, now: time.Now}
}

// Collection is a content type: a name and the schema of its items' data.
type Collection struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	Description string    `json:"description"`
	Schema      *Schema   `json:"schema"`
	Public      bool      `json:"public"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
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

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMS(*v)
	return &t
}

func msPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}

// rawJSON marshals v, which is always marshalable here.
func rawJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

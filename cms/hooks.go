package cms

import (
	"context"
	"database/sql"

	"github.com/condohq/condo"
)

// Hooks is what runs around a Store's writes for its tenant: package
// plugins implements it with the plugins the tenant enabled. Before-hooks
// run inside the write transaction, so an error they return rolls the
// write back (nothing is written) and reaches the caller as it is; the
// after-hooks run once the write committed and cannot fail it (they log
// what goes wrong). A Store without Hooks runs none.
type Hooks interface {
	// BeforeSave may change ev's title, slug and data, which are then
	// validated against the collection's schema like the caller's, or
	// refuse the save (an error with field errors: ValidationFailed).
	BeforeSave(ctx context.Context, ev *SaveEvent) error
	// AfterSave sees the item as stored.
	AfterSave(ctx context.Context, ev *SaveEvent)
	// BeforeDelete may refuse moving an item to the trash.
	BeforeDelete(ctx context.Context, ev *DeleteEvent) error
	// AfterUpload sees a media file once it is recorded.
	AfterUpload(ctx context.Context, ev *MediaEvent)
}

// SaveEvent is one item being created or edited.
type SaveEvent struct {
	Tenant string
	DB     condo.DB
	// Tx is the write transaction during BeforeSave (read and write
	// through DB.QueryRowTx / DB.ExecTx with it); nil afterwards.
	Tx         *sql.Tx
	Collection *Collection
	Create     bool   // false: an edit of ItemID
	ItemID     string // the item's id (already chosen on create)
	// Title, Slug and Data are the input before validation during
	// BeforeSave (Title already taken from data's "title" where the
	// schema has one; Slug empty: one is made from the title); a hook may
	// change them. After the save, Item holds what was stored (its Data
	// validated and normalized).
	Title string
	Slug  string
	Data  map[string]any
	// Item is the stored item, for AfterSave.
	Item *Item
	// State belongs to the Hooks implementation: what BeforeSave found
	// (the tenant's enabled plugins) for AfterSave to reuse.
	State any
}

// DeleteEvent is an item about to go to the trash.
type DeleteEvent struct {
	Tenant string
	DB     condo.DB
	Tx     *sql.Tx
	Item   *Item
}

// MediaEvent is a media file just uploaded.
type MediaEvent struct {
	Tenant string
	DB     condo.DB
	Media  *Media
}

// WithHooks makes every Store the cache builds from now on run h around
// its writes; call it before the cache is shared. It returns c.
func (c *Cache) WithHooks(h Hooks) *Cache {
	if c != nil {
		c.hooks = h
	}
	return c
}

// ValidationFailed is the error of input refused field by field, the same
// a schema's refusal is (400 validation_failed with error.fields).
func ValidationFailed(bad FieldErrors) error { return validationFailed(bad) }

// beforeSave runs the before-save hooks on in (a copy of the caller's
// data map, so a hook's changes never reach the caller's value).
func (s *Store) beforeSave(ctx context.Context, tx *sql.Tx, col *Collection, it *Item, in *ItemInput, create bool) (*SaveEvent, error) {
	if s.hooks == nil {
		return nil, nil
	}
	data := make(map[string]any, len(in.Data))
	for k, v := range in.Data {
		data[k] = v
	}
	ev := &SaveEvent{Tenant: s.TenantID, DB: s.DB, Tx: tx, Collection: col, Create: create, ItemID: it.ID,
		Title: in.Title, Slug: in.Slug, Data: data}
	if err := s.hooks.BeforeSave(ctx, ev); err != nil {
		return nil, err
	}
	in.Title, in.Slug, in.Data = ev.Title, ev.Slug, ev.Data
	ev.Tx = nil
	return ev, nil
}

// afterSave runs the after-save hooks of a committed save.
func (s *Store) afterSave(ctx context.Context, ev *SaveEvent, it *Item) {
	if s.hooks == nil || ev == nil || it == nil {
		return
	}
	ev.Item, ev.Title, ev.Slug = it, it.Title, it.Slug
	s.hooks.AfterSave(ctx, ev)
}

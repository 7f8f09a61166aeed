package cms

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/condohq/condo"
)

// Hooks is what runs around a Store's writes for its tenant: package
// plugins implements it with the plugins the tenant enabled. Before-hooks
// run inside the write transaction, so an error they return rolls the
// write back (nothing is written) and reaches the caller as it is; the
// after-hooks run once the write committed and cannot fail it (they log
// what goes wrong). A Store without Hooks runs none.
//
// Which hook runs for which write (ev.Op says which it is):
//
//	create, update       BeforeSave (may change the data), AfterSave
//	transition, restore  BeforeSave (may refuse; changes are not stored), AfterSave
//	trash, purge, expire BeforeDelete, AfterDelete
//
// A transition is any status change, the scheduler's included; restore is
// an item coming back from the trash (restoring a version is an update).
type Hooks interface {
	// BeforeSave may change ev's title, slug and data, which are then
	// validated against the collection's schema like the caller's, or
	// refuse the save (an error with field errors: ValidationFailed). For
	// an Op that does not change data (transition, restore) it sees the
	// stored item and may only refuse.
	BeforeSave(ctx context.Context, ev *SaveEvent) error
	// AfterSave sees the item as stored.
	AfterSave(ctx context.Context, ev *SaveEvent)
	// BeforeDelete may refuse moving an item to the trash or purging it.
	BeforeDelete(ctx context.Context, ev *DeleteEvent) error
	// AfterDelete sees the item once it went to the trash or for good.
	AfterDelete(ctx context.Context, ev *DeleteEvent)
	// AfterUpload sees a media file once it is recorded.
	AfterUpload(ctx context.Context, ev *MediaEvent)
}

// Op is the kind of content write a hook runs for.
type Op string

// The content writes. OpExpire is the purge of an item the trash kept
// past its retention (the scheduler's).
const (
	OpCreate     Op = "create"
	OpUpdate     Op = "update" // PUT, PATCH, restoring a version
	OpTransition Op = "transition"
	OpRestore    Op = "restore" // out of the trash
	OpTrash      Op = "trash"   // DELETE: into the trash
	OpPurge      Op = "purge"   // out of the trash, for good
	OpExpire     Op = "expire"
)

// ChangesData reports whether the write stores the title, slug and data a
// before-save hook leaves in its event (create and update); for the other
// writes the item's content stays what it is.
func (o Op) ChangesData() bool { return o == OpCreate || o == OpUpdate }

// SaveEvent is one item being created or edited.
type SaveEvent struct {
	Tenant string
	DB     condo.DB
	// Tx is the write transaction during BeforeSave (read and write
	// through DB.QueryRowTx / DB.ExecTx with it); nil afterwards.
	Tx         *sql.Tx
	Collection *Collection
	Op         Op
	Create     bool   // Op == OpCreate
	ItemID     string // the item's id (already chosen on create)
	// FromStatus and Status are the item's status before and after the
	// write (equal but for a transition, and on create FromStatus is "").
	// Actor is the user making it; empty for the scheduler.
	FromStatus string
	Status     string
	Actor      string
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

// DeleteEvent is an item going to the trash (OpTrash) or out of it for
// good (OpPurge, OpExpire).
type DeleteEvent struct {
	Tenant string
	DB     condo.DB
	Op     Op
	// Tx is the write transaction during BeforeDelete; nil in AfterDelete.
	Tx   *sql.Tx
	Item *Item
	// State belongs to the Hooks implementation (see SaveEvent.State).
	State any
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

// beforeSave runs the before-save hooks of a create or an update on in
// (a copy of the caller's data map, so a hook's changes never reach the
// caller's value).
func (s *Store) beforeSave(ctx context.Context, tx *sql.Tx, col *Collection, it *Item, in *ItemInput, op Op, actor string) (*SaveEvent, error) {
	if s.hooks == nil {
		return nil, nil
	}
	data := make(map[string]any, len(in.Data))
	for k, v := range in.Data {
		data[k] = v
	}
	ev := &SaveEvent{Tenant: s.TenantID, DB: s.DB, Tx: tx, Collection: col, Op: op, Create: op == OpCreate, ItemID: it.ID,
		FromStatus: it.Status, Status: it.Status, Actor: actor, Title: in.Title, Slug: in.Slug, Data: data}
	if op == OpCreate {
		ev.FromStatus = ""
	}
	if err := s.hooks.BeforeSave(ctx, ev); err != nil {
		return nil, err
	}
	in.Title, in.Slug, in.Data = ev.Title, ev.Slug, ev.Data
	ev.Tx = nil
	return ev, nil
}

// beforeKeep runs the before-save hooks of a write that keeps the item's
// content (op is OpTransition to status to, or OpRestore): they see
// copies of what is stored and may refuse. col is the item's collection,
// read here when nil.
func (s *Store) beforeKeep(ctx context.Context, tx *sql.Tx, col *Collection, it *Item, op Op, to, actor string) (*SaveEvent, error) {
	if s.hooks == nil {
		return nil, nil
	}
	if col == nil {
		var err error
		if col, err = scanCollection(tx.QueryRowContext(ctx, selectCollection+" WHERE name = ?", it.Collection)); err != nil {
			return nil, err
		}
	}
	var data map[string]any
	if err := json.Unmarshal(it.Data, &data); err != nil {
		return nil, err
	}
	ev := &SaveEvent{Tenant: s.TenantID, DB: s.DB, Tx: tx, Collection: col, Op: op, ItemID: it.ID,
		FromStatus: it.Status, Status: to, Actor: actor, Title: it.Title, Slug: it.Slug, Data: data}
	if err := s.hooks.BeforeSave(ctx, ev); err != nil {
		return nil, err
	}
	ev.Tx = nil
	return ev, nil
}

// afterSave runs the after-save hooks of a committed write.
func (s *Store) afterSave(ctx context.Context, ev *SaveEvent, it *Item) {
	if s.hooks == nil || ev == nil || it == nil {
		return
	}
	ev.Item, ev.Title, ev.Slug, ev.Status = it, it.Title, it.Slug, it.Status
	s.hooks.AfterSave(ctx, ev)
}

// beforeDelete runs the before-delete hooks of it, which op removes.
func (s *Store) beforeDelete(ctx context.Context, tx *sql.Tx, it *Item, op Op) (*DeleteEvent, error) {
	if s.hooks == nil {
		return nil, nil
	}
	ev := &DeleteEvent{Tenant: s.TenantID, DB: s.DB, Op: op, Tx: tx, Item: it}
	if err := s.hooks.BeforeDelete(ctx, ev); err != nil {
		return nil, err
	}
	ev.Tx = nil
	return ev, nil
}

// afterDelete runs the after-delete hooks of a committed removal.
func (s *Store) afterDelete(ctx context.Context, ev *DeleteEvent) {
	if s.hooks != nil && ev != nil {
		s.hooks.AfterDelete(ctx, ev)
	}
}

package cms

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/condohq/condo"
	"github.com/condohq/condo/plans"
)

// ItemInput is an item as written: POST creates one, PUT replaces the
// editable part of one. Status on create defaults to draft.
type ItemInput struct {
	Title       string         `json:"title"`
	Slug        string         `json:"slug"`
	Status      string         `json:"status"`
	Data        map[string]any `json:"data"`
	PublishAt   *time.Time     `json:"publish_at"`
	UnpublishAt *time.Time     `json:"unpublish_at"`
	// Plan, when set, caps the collection's items (its
	// items_per_collection, the trash included) for CreateItem.
	Plan *plans.Plan `json:"-"`
}

// checkItemLimit refuses one more item in col past p's
// items_per_collection (EFORBIDDEN plan_limit_reached). It counts inside
// the write transaction, so concurrent creates cannot pass it together.
func checkItemLimit(ctx context.Context, tx *sql.Tx, col *Collection, p *plans.Plan) error {
	if p == nil || p.ItemsPerCollection == plans.Unlimited {
		return nil
	}
	var n int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM content WHERE collection_id = ?", col.ID).Scan(&n); err != nil {
		return err
	}
	if !plans.Within(n+1, p.ItemsPerCollection) {
		return plans.LimitReached("items in a collection", p.ItemsPerCollection, p.Name)
	}
	return nil
}

// Change is the effect of a write: the item as it now is and, when the
// status moved, from what.
type Change struct {
	Item       *Item
	FromStatus string
}

// CreateItem validates in against the collection's schema and stores it
// as version 1 in one transaction (triggers index it for search).
func (s *Store) CreateItem(ctx context.Context, col *Collection, in ItemInput, actor string) (*Item, error) {
	if in.Status == "" {
		in.Status = StatusDraft
	}
	if err := checkStatus(in.Status); err != nil {
		return nil, err
	}
	now := s.now()
	it := &Item{ID: condo.NewID(), Collection: col.Name, Status: in.Status, Version: 1, AuthorID: actor,
		PublishAt: in.PublishAt, UnpublishAt: in.UnpublishAt, CreatedAt: condo.FromUnixMS(condo.UnixMS(now)), UpdatedAt: condo.FromUnixMS(condo.UnixMS(now))}
	if in.Status == StatusPublished {
		it.PublishedAt = &it.CreatedAt
	}
	var ev *SaveEvent
	err := s.transact(ctx, func(tx *sql.Tx) (err error) {
		if err := checkItemLimit(ctx, tx, col, in.Plan); err != nil {
			return err
		}
		if ev, err = s.prepare(ctx, tx, col, it, in, "", actor); err != nil {
			return err
		}
		_, err = s.DB.ExecTx(ctx, tx, `INSERT INTO content (id, collection_id, slug, title, data, status, published_at, author_id,
			created_at, updated_at, publish_at, unpublish_at, version, updated_by, search_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
			it.ID, col.ID, it.Slug, it.Title, string(it.Data), it.Status, condo.NullUnixMS(it.PublishedAt), nullable(actor),
			condo.UnixMS(now), condo.UnixMS(now), condo.NullUnixMS(it.PublishAt), condo.NullUnixMS(it.UnpublishAt), nullable(actor), searchText(it.Data))
		if err != nil {
			return err
		}
		if err := s.writeVersion(ctx, tx, it, actor, now); err != nil {
			return err
		}
		return s.recorded(ctx, tx, OpCreate, "", it)
	})
	if err != nil {
		return nil, err
	}
	s.afterSave(ctx, ev, it)
	return it, nil
}

// UpdateItem replaces an item's title, slug, data and schedule (status
// moves through Transition) and records the result as a new version.
// Status in in, when set and different, is refused: callers turn it into
// a transition first.
func (s *Store) UpdateItem(ctx context.Context, col *Collection, id string, in ItemInput, actor string) (*Item, error) {
	return s.EditItem(ctx, id, actor, func(cur *Item, c *Collection) (ItemInput, error) {
		if c.ID != col.ID {
			return ItemInput{}, itemNotFound(id)
		}
		return in, nil
	})
}

// Edit computes an item's new editable state from its current one and its
// collection (PATCH merges into it). It runs inside the write transaction,
// so it also checks whatever the caller's right to write depends on (the
// version the caller read, the schedule it may set): no other write can
// come between what it saw and what is stored. It must not write to the
// database: the transaction holds the tenant's only write connection.
type Edit func(cur *Item, col *Collection) (ItemInput, error)

// EditItem reads a live item, asks edit for its new state and stores that
// as a new version, all in one write transaction, so concurrent edits of
// one item apply one after the other and none is lost.
func (s *Store) EditItem(ctx context.Context, id, actor string, edit Edit) (*Item, error) {
	var it *Item
	var ev *SaveEvent
	err := s.transact(ctx, func(tx *sql.Tx) error {
		cur, err := s.liveItem(ctx, tx, id)
		if err != nil {
			return err
		}
		col, err := scanCollection(tx.QueryRowContext(ctx, selectCollection+" WHERE name = ?", cur.Collection))
		if err != nil {
			return err
		}
		before := *cur
		in, err := edit(&before, col)
		if err != nil {
			return err
		}
		if in.Status != "" && in.Status != cur.Status {
			return condo.ReasonErrorf(condo.EINVALID, "invalid_status", "change the status with POST /api/content/%s/transition", id)
		}
		it = cur
		it.PublishAt, it.UnpublishAt = in.PublishAt, in.UnpublishAt
		if ev, err = s.prepare(ctx, tx, col, it, in, id, actor); err != nil {
			return err
		}
		now := s.now()
		it.Version++
		it.UpdatedAt = condo.FromUnixMS(condo.UnixMS(now))
		if _, err := s.DB.ExecTx(ctx, tx, `UPDATE content SET slug = ?, title = ?, data = ?, publish_at = ?, unpublish_at = ?,
			version = ?, updated_by = ?, updated_at = ?, search_text = ? WHERE id = ?`, it.Slug, it.Title, string(it.Data), condo.NullUnixMS(it.PublishAt),
			condo.NullUnixMS(it.UnpublishAt), it.Version, nullable(actor), condo.UnixMS(now), searchText(it.Data), id); err != nil {
			return err
		}
		if err := s.writeVersion(ctx, tx, it, actor, now); err != nil {
			return err
		}
		return s.recorded(ctx, tx, OpUpdate, it.Status, it)
	})
	if err != nil {
		return it, err
	}
	s.afterSave(ctx, ev, it)
	return it, nil
}

// prepare fills it's title, slug and data from in: data validated against
// the schema (with the title as its "title" field where the schema has
// one), unique fields and the slug checked against the collection's other
// items. self is the item's own id on update. The tenant's before-save
// hooks run first, on the input with its title settled; what they return
// is validated like the caller's input.
func (s *Store) prepare(ctx context.Context, tx *sql.Tx, col *Collection, it *Item, in ItemInput, self, actor string) (*SaveEvent, error) {
	if in.Data == nil {
		in.Data = map[string]any{}
	}
	title := in.Title
	if f, ok := col.Schema.Lookup("title"); ok && f.Type != "object" {
		if title == "" {
			title, _ = in.Data["title"].(string)
		} else if _, set := in.Data["title"]; !set {
			in.Data["title"] = title
		}
	}
	in.Title = title
	op := OpUpdate
	if self == "" {
		op = OpCreate
	}
	ev, err := s.beforeSave(ctx, tx, col, it, &in, op, actor)
	if err != nil {
		return nil, err
	}
	title = in.Title
	bad := FieldErrors{}
	if len(title) > 500 || !utf8.ValidString(title) || strings.ContainsFunc(title, unicode.IsControl) {
		bad["title"] = "at most 500 characters of valid UTF-8, without control characters"
	}
	if in.PublishAt != nil && in.UnpublishAt != nil && !in.UnpublishAt.After(*in.PublishAt) {
		bad["unpublish_at"] = "must be after publish_at"
	}
	data, errs, err := col.Schema.Validate(ctx, in.Data, txResolver{db: s.DB, tx: tx})
	if err != nil {
		return nil, err
	}
	for k, v := range errs {
		bad[k] = v
	}
	if len(bad) == 0 {
		taken, err := s.taken(ctx, tx, col, data, self)
		if err != nil {
			return nil, err
		}
		bad = taken
	}
	if len(bad) > 0 {
		return nil, validationFailed(bad)
	}
	it.Title, it.Data = title, json.RawMessage(rawJSON(data))
	return ev, s.pickSlug(ctx, tx, col, it, in.Slug, self)
}

// taken names the unique fields of data whose values another live item
// of the collection (other than self) holds.
func (s *Store) taken(ctx context.Context, tx *sql.Tx, col *Collection, data map[string]any, self string) (FieldErrors, error) {
	bad := FieldErrors{}
	for _, f := range col.Schema.UniqueFields() {
		v, ok := data[f.Name]
		if !ok || v == nil {
			continue
		}
		var n int
		err := s.DB.QueryRowTx(ctx, tx, `SELECT count(*) FROM content WHERE collection_id = ? AND id <> ? AND deleted_at IS NULL
			AND json_extract(data, '$.'||?) = json_extract(?, '$')`, col.ID, self, f.Name, rawJSON(v)).Scan(&n)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			bad[f.Name] = "must be unique in the collection: another item has this value"
		}
	}
	return bad, nil
}

// pickSlug sets it.Slug: the one given (refused when taken), else one made
// from the title, numbered until free.
func (s *Store) pickSlug(ctx context.Context, tx *sql.Tx, col *Collection, it *Item, given, self string) error {
	taken := func(slug string) (bool, error) {
		var n int
		err := s.DB.QueryRowTx(ctx, tx, "SELECT count(*) FROM content WHERE collection_id = ? AND slug = ? AND id <> ?", col.ID, slug, self).Scan(&n)
		return n > 0, err
	}
	if given != "" {
		if !validSlug(given) {
			return validationFailed(FieldErrors{"slug": "lower-case letters, digits and single dashes, at most 200 characters"})
		}
		t, err := taken(given)
		if err != nil {
			return err
		}
		if t {
			return &condo.Error{Code: condo.ECONFLICT, Reason: "slug_taken", Fields: map[string]string{"slug": "already used in this collection"},
				Message: fmt.Sprintf("the slug %q is already used in collection %s (the trash included)", given, col.Name)}
		}
		it.Slug = given
		return nil
	}
	if self != "" && it.Slug != "" {
		return nil // an update keeps its slug unless given a new one
	}
	base := Slugify(it.Title)
	if base == "" {
		base = strings.ToLower(it.ID[len(it.ID)-12:])
	}
	for i := 1; ; i++ {
		slug := base
		if i > 1 {
			slug = fmt.Sprintf("%s-%d", base, i)
		}
		t, err := taken(slug)
		if err != nil {
			return err
		}
		if !t {
			it.Slug = slug
			return nil
		}
		if i > 1000 {
			return condo.ReasonErrorf(condo.ECONFLICT, "slug_taken", "no free slug for %q: give one", condo.Clip(it.Title))
		}
	}
}

// Slugify makes a URL slug of a title: accents dropped, lower-case ASCII
// letters and digits, single dashes between words, at most 100 bytes.
func Slugify(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(title) {
		switch {
		case unicode.Is(unicode.Mn, r): // a combining accent
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
		if b.Len() >= 100 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

func validSlug(s string) bool {
	if len(s) == 0 || len(s) > 200 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Item returns a live item by id, or by slug (with collection, or unique
// across collections).
func (s *Store) Item(ctx context.Context, ref, collection string) (*Item, bool, error) {
	var public bool
	const withPublic = "SELECT " + itemColumns + ", col.is_public FROM content c JOIN collections col ON col.id = c.collection_id"
	it, err := scanItem(s.DB.QueryRow(ctx, withPublic+" WHERE c.id = ? AND c.deleted_at IS NULL", ref), &public)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return it, public, err
	}
	q, args := withPublic+" WHERE c.slug = ? AND c.deleted_at IS NULL", []any{ref}
	if collection != "" {
		q, args = q+" AND col.name = ?", append(args, collection)
	}
	rows, err := s.DB.Reader().QueryContext(ctx, q+" LIMIT 2", args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var found []*Item
	for rows.Next() {
		if it, err = scanItem(rows, &public); err != nil {
			return nil, false, err
		}
		found = append(found, it)
	}
	switch {
	case rows.Err() != nil:
		return nil, false, rows.Err()
	case len(found) == 0:
		return nil, false, itemNotFound(ref)
	case len(found) > 1:
		return nil, false, condo.ReasonErrorf(condo.ECONFLICT, "ambiguous_slug", "several collections have an item %q: add ?collection=NAME", condo.Clip(ref))
	}
	return found[0], public, nil
}

// liveItem reads an item not in the trash inside a transaction.
func (s *Store) liveItem(ctx context.Context, tx *sql.Tx, id string) (*Item, error) {
	it, err := scanItem(s.DB.QueryRowTx(ctx, tx, selectItems+" WHERE c.id = ? AND c.deleted_at IS NULL", id))
	return it, notFoundIf(err, id)
}

// TrashRetention is how long a deleted item stays restorable.
const TrashRetention = 30 * 24 * time.Hour

// TrashItem moves an item to the trash: it leaves lists, reads and search,
// and can be restored until it is purged. check, when not nil, sees the
// item inside the write transaction and may refuse (see Edit).
func (s *Store) TrashItem(ctx context.Context, id string, check func(cur *Item) error) (*Item, error) {
	var it *Item
	var ev *DeleteEvent
	err := s.transact(ctx, func(tx *sql.Tx) (err error) {
		if it, err = s.liveItem(ctx, tx, id); err != nil {
			return err
		}
		if check != nil {
			if err := check(it); err != nil {
				return err
			}
		}
		if ev, err = s.beforeDelete(ctx, tx, it, OpTrash); err != nil {
			return err
		}
		now := s.now()
		it.DeletedAt = &now
		if _, err = tx.ExecContext(ctx, "UPDATE content SET deleted_at = ? WHERE id = ?", condo.UnixMS(now), id); err != nil {
			return err
		}
		return s.recorded(ctx, tx, OpTrash, it.Status, it)
	})
	if err == nil {
		s.afterDelete(ctx, ev)
	}
	return it, err
}

// Trash lists a collection's trashed items (all collections when col is
// nil; one author's when author is set), most recently deleted first.
func (s *Store) Trash(ctx context.Context, col *Collection, author string, limit int) ([]*Item, error) {
	q, args := selectItems+" WHERE c.deleted_at IS NOT NULL", []any{}
	if col != nil {
		q, args = q+" AND c.collection_id = ?", append(args, col.ID)
	}
	if author != "" {
		q, args = q+" AND c.author_id = ?", append(args, author)
	}
	rows, err := s.DB.Reader().QueryContext(ctx, q+" ORDER BY c.deleted_at DESC, c.id LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, err
	}
	return scanItems(rows)
}

// TrashedItem returns an item of the trash.
func (s *Store) TrashedItem(ctx context.Context, id string) (*Item, error) {
	it, err := scanItem(s.DB.Reader().QueryRowContext(ctx, selectItems+" WHERE c.id = ? AND c.deleted_at IS NOT NULL", id))
	return it, notFoundIf(err, id)
}

// RestoreItem brings an item back from the trash, unless a live item took
// one of its unique values meanwhile.
func (s *Store) RestoreItem(ctx context.Context, id, actor string) (*Item, error) {
	var it *Item
	var ev *SaveEvent
	err := s.transact(ctx, func(tx *sql.Tx) error {
		var err error
		it, err = scanItem(tx.QueryRowContext(ctx, selectItems+" WHERE c.id = ? AND c.deleted_at IS NOT NULL", id))
		if err != nil {
			return notFoundIf(err, id)
		}
		col, err := scanCollection(tx.QueryRowContext(ctx, selectCollection+" WHERE name = ?", it.Collection))
		if err != nil {
			return err
		}
		if ev, err = s.beforeKeep(ctx, tx, col, it, OpRestore, it.Status, actor); err != nil {
			return err
		}
		var data map[string]any
		if err := json.Unmarshal(it.Data, &data); err != nil {
			return err
		}
		if bad, err := s.taken(ctx, tx, col, data, id); err != nil || len(bad) > 0 {
			if err != nil {
				return err
			}
			return &condo.Error{Code: condo.ECONFLICT, Reason: "unique_taken", Fields: bad,
				Message: "a live item has taken a unique value of this one: change that item first"}
		}
		it.DeletedAt = nil
		if _, err = tx.ExecContext(ctx, "UPDATE content SET deleted_at = NULL WHERE id = ?", id); err != nil {
			return err
		}
		return s.recorded(ctx, tx, OpRestore, it.Status, it)
	})
	if err != nil {
		return nil, err
	}
	s.afterSave(ctx, ev, it)
	return it, nil
}

// PurgeItem deletes an item for good, with its versions and history. It
// must be in the trash first.
func (s *Store) PurgeItem(ctx context.Context, id string) error {
	return s.purge(ctx, id, OpPurge)
}

// purge deletes a trashed item for good; op is OpPurge or OpExpire, what
// the hooks are told.
func (s *Store) purge(ctx context.Context, id string, op Op) error {
	var ev *DeleteEvent
	err := s.transact(ctx, func(tx *sql.Tx) error {
		var it *Item
		if s.hooks != nil { // they see the item; without them one statement does
			var err error
			it, err = scanItem(tx.QueryRowContext(ctx, selectItems+" WHERE c.id = ? AND c.deleted_at IS NOT NULL", id))
			if errors.Is(err, sql.ErrNoRows) {
				return condo.ReasonErrorf(condo.ENOTFOUND, "content_not_found", "no item %q in the trash", condo.Clip(id))
			}
			if err != nil {
				return err
			}
			if ev, err = s.beforeDelete(ctx, tx, it, op); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM content WHERE id = ? AND deleted_at IS NOT NULL", id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return condo.ReasonErrorf(condo.ENOTFOUND, "content_not_found", "no item %q in the trash", condo.Clip(id))
		}
		return nil
	})
	if err == nil {
		s.afterDelete(ctx, ev)
	}
	return err
}

// purgeExpired purges what has been in the trash longer than retention.
func (s *Store) purgeExpired(ctx context.Context, retention time.Duration) (int, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, "SELECT id FROM content WHERE deleted_at IS NOT NULL AND deleted_at <= ?", condo.UnixMS(s.now().Add(-retention)))
	if err != nil {
		return 0, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	// One item's failure (a before-delete hook refusing, say) keeps only
	// that item: the others are purged, and the error makes the scheduler
	// try again later.
	var first error
	n := 0
	for _, id := range ids {
		switch err := s.purge(ctx, id, OpExpire); {
		case err == nil:
			n++
		case condo.ErrorCode(err) == condo.ENOTFOUND: // restored or purged meanwhile
		case ctx.Err() != nil:
			return n, err
		case first == nil:
			first = fmt.Errorf("purge %s: %w", id, err)
		}
	}
	return n, first
}

func checkStatus(s string) error {
	switch s {
	case StatusDraft, StatusReview, StatusPublished, StatusArchived:
		return nil
	}
	return condo.ReasonErrorf(condo.EINVALID, "invalid_status", "unknown status %q: use draft, review, published or archived", condo.Clip(s))
}

func validationFailed(bad FieldErrors) error {
	return &condo.Error{Code: condo.EINVALID, Reason: "validation_failed", Fields: bad,
		Message: countFields(len(bad)) + " invalid: see error.fields"}
}

// countFields is "1 field is" or "n fields are".
func countFields(n int) string {
	if n == 1 {
		return "1 field is"
	}
	return fmt.Sprintf("%d fields are", n)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// txResolver answers the schema's questions inside a write transaction.
type txResolver struct {
	db condo.DB
	tx *sql.Tx
}

func (r txResolver) ItemExists(ctx context.Context, collection, id string) (bool, error) {
	var n int
	err := r.db.QueryRowTx(ctx, r.tx, `SELECT count(*) FROM content c JOIN collections col ON col.id = c.collection_id
		WHERE c.id = ? AND col.name = ? AND c.deleted_at IS NULL`, id, collection).Scan(&n)
	return n > 0, err
}

func (r txResolver) MediaExists(ctx context.Context, id string) (bool, error) {
	var n int
	err := r.db.QueryRowTx(ctx, r.tx, "SELECT count(*) FROM media WHERE id = ?", id).Scan(&n)
	return n > 0, err
}

// Merge applies a PATCH to an item: the fields given replace the item's,
// data merges key by key and a null removes a key.
func Merge(cur *Item, title, slug, status *string, data map[string]any) (ItemInput, error) {
	var d map[string]any
	if err := json.Unmarshal(cur.Data, &d); err != nil {
		return ItemInput{}, err
	}
	if d == nil {
		d = map[string]any{}
	}
	for k, v := range data {
		if v == nil {
			delete(d, k)
		} else {
			d[k] = v
		}
	}
	in := ItemInput{Title: cur.Title, Slug: cur.Slug, Data: d, PublishAt: cur.PublishAt, UnpublishAt: cur.UnpublishAt}
	if title != nil {
		in.Title = *title
		if _, ok := data["title"]; !ok {
			delete(d, "title") // the schema's title field follows the new title
		}
	}
	if slug != nil {
		in.Slug = *slug
	}
	if status != nil {
		in.Status = *status
	}
	return in, nil
}

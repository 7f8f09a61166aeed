package cms

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"time"

	"github.com/condohq/condo"
)

// snapshot is what a version keeps of an item: everything an editor
// changes.
type snapshot struct {
	Title       string          `json:"title"`
	Slug        string          `json:"slug"`
	Status      string          `json:"status"`
	Data        json.RawMessage `json:"data"`
	PublishAt   *time.Time      `json:"publish_at,omitempty"`
	UnpublishAt *time.Time      `json:"unpublish_at,omitempty"`
}

// Version is one recorded state of an item.
type Version struct {
	Version   int       `json:"version"`
	AuthorID  string    `json:"author_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	snapshot
}

func (s *Store) writeVersion(ctx context.Context, tx *sql.Tx, it *Item, actor string, now time.Time) error {
	_, err := s.DB.ExecTx(ctx, tx, "INSERT INTO content_versions (content_id, version, data, author_id, created_at) VALUES (?, ?, ?, ?, ?)",
		it.ID, it.Version, VersionData(it), nullable(actor), condo.UnixMS(now))
	return err
}

// VersionData is what content_versions.data holds for an item's state,
// for writers that store versions themselves (an import).
func VersionData(it *Item) string {
	return rawJSON(snapshot{Title: it.Title, Slug: it.Slug, Status: it.Status, Data: it.Data, PublishAt: it.PublishAt, UnpublishAt: it.UnpublishAt})
}

// Versions lists an item's versions, newest first.
func (s *Store) Versions(ctx context.Context, id string) ([]Version, error) {
	if _, _, err := s.Item(ctx, id, ""); err != nil {
		return nil, err
	}
	rows, err := s.DB.Reader().QueryContext(ctx, "SELECT version, author_id, created_at, data FROM content_versions WHERE content_id = ? ORDER BY version DESC", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Version{}
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

func scanVersion(row interface{ Scan(...any) error }) (*Version, error) {
	var v Version
	var author sql.NullString
	var created int64
	var data string
	if err := row.Scan(&v.Version, &author, &created, &data); err != nil {
		return nil, err
	}
	v.AuthorID, v.CreatedAt = author.String, condo.FromUnixMS(created)
	return &v, json.Unmarshal([]byte(data), &v.snapshot)
}

// Version returns one version of a live item.
func (s *Store) Version(ctx context.Context, id string, n int) (*Version, error) {
	v, err := scanVersion(s.DB.Reader().QueryRowContext(ctx, `SELECT v.version, v.author_id, v.created_at, v.data FROM content_versions v
		JOIN content c ON c.id = v.content_id WHERE v.content_id = ? AND v.version = ? AND c.deleted_at IS NULL`, id, n))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, condo.ReasonErrorf(condo.ENOTFOUND, "version_not_found", "item %q has no version %d", condo.Clip(id), n)
	}
	return v, err
}

// FieldChange is one difference between two versions: a top-level item
// field (title, slug, status, ...) or a data field as data.<name>.
type FieldChange struct {
	Field string `json:"field"`
	From  any    `json:"from"`
	To    any    `json:"to"`
}

// Diff lists what changed from version a to version b.
func (s *Store) Diff(ctx context.Context, id string, a, b int) ([]FieldChange, error) {
	va, err := s.Version(ctx, id, a)
	if err != nil {
		return nil, err
	}
	vb, err := s.Version(ctx, id, b)
	if err != nil {
		return nil, err
	}
	flat := func(v *Version) map[string]any {
		m := map[string]any{"title": v.Title, "slug": v.Slug, "status": v.Status, "publish_at": v.PublishAt, "unpublish_at": v.UnpublishAt}
		var data map[string]any
		json.Unmarshal(v.Data, &data)
		for k, x := range data {
			m["data."+k] = x
		}
		return m
	}
	fa, fb := flat(va), flat(vb)
	keys := map[string]bool{}
	for k := range fa {
		keys[k] = true
	}
	for k := range fb {
		keys[k] = true
	}
	out := []FieldChange{}
	for k := range keys {
		if !reflect.DeepEqual(jsonish(fa[k]), jsonish(fb[k])) {
			out = append(out, FieldChange{Field: k, From: fa[k], To: fb[k]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out, nil
}

// jsonish normalizes a value through JSON, so a nil time and an absent
// field compare equal.
func jsonish(v any) any {
	var out any
	json.Unmarshal([]byte(rawJSON(v)), &out)
	return out
}

// RestoreVersion makes version n's title, slug and data the item's
// current state again, as a new version; the status and the schedule stay
// as they are (an old publish_at must not publish the item again). check,
// when not nil, sees the current item inside the write transaction and
// may refuse (see Edit).
func (s *Store) RestoreVersion(ctx context.Context, id string, n int, actor string, check func(cur *Item, col *Collection) error) (*Item, error) {
	v, err := s.Version(ctx, id, n) // a version never changes once written
	if err != nil {
		return nil, err
	}
	return s.EditItem(ctx, id, actor, func(cur *Item, col *Collection) (ItemInput, error) {
		if check != nil {
			if err := check(cur, col); err != nil {
				return ItemInput{}, err
			}
		}
		var data map[string]any
		if err := json.Unmarshal(v.Data, &data); err != nil {
			return ItemInput{}, err
		}
		return ItemInput{Title: v.Title, Slug: v.Slug, Data: data, PublishAt: cur.PublishAt, UnpublishAt: cur.UnpublishAt}, nil
	})
}

package cms

import (
	"context"
	"database/sql"
	"errors"

	"github.com/condohq/condo"
)

// itemColumns are what every item query selects, in scanItem's order;
// content is aliased c and collections col.
const itemColumns = `c.id, col.name, c.title, c.slug, c.status, c.data, c.version, c.author_id, c.published_at,
	c.publish_at, c.unpublish_at, c.deleted_at, c.created_at, c.updated_at`

// selectItems starts every item query.
const selectItems = "SELECT " + itemColumns + " FROM content c JOIN collections col ON col.id = c.collection_id"

// scanItem reads a row of itemColumns, with extra destinations after them.
func scanItem(row interface{ Scan(...any) error }, extra ...any) (*Item, error) {
	var it Item
	var data string
	var author sql.NullString
	var published, publishAt, unpublishAt, deleted *int64
	var created, updated int64
	dest := append([]any{&it.ID, &it.Collection, &it.Title, &it.Slug, &it.Status, &data, &it.Version, &author, &published,
		&publishAt, &unpublishAt, &deleted, &created, &updated}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	it.Data, it.AuthorID = []byte(data), author.String
	it.PublishedAt, it.PublishAt, it.UnpublishAt, it.DeletedAt = condo.FromNullUnixMS(published), condo.FromNullUnixMS(publishAt), condo.FromNullUnixMS(unpublishAt), condo.FromNullUnixMS(deleted)
	it.CreatedAt, it.UpdatedAt = condo.FromUnixMS(created), condo.FromUnixMS(updated)
	return &it, nil
}

// scanItems reads every row of rows.
func scanItems(rows *sql.Rows) ([]*Item, error) {
	defer rows.Close()
	out := []*Item{}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// itemsByID reads the live items with these ids, in no order (include=).
func (s *Store) itemsByID(ctx context.Context, ids []string) (map[string]*Item, error) {
	out := make(map[string]*Item, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	marks := make([]byte, 0, 2*len(ids))
	for i, id := range ids {
		args[i] = id
		if i > 0 {
			marks = append(marks, ',')
		}
		marks = append(marks, '?')
	}
	rows, err := s.DB.Reader().QueryContext(ctx, selectItems+" WHERE c.deleted_at IS NULL AND c.id IN ("+string(marks)+")", args...)
	if err != nil {
		return nil, err
	}
	items, err := scanItems(rows)
	for _, it := range items {
		out[it.ID] = it
	}
	return out, err
}

func itemNotFound(ref string) error {
	return condo.ReasonErrorf(condo.ENOTFOUND, "content_not_found", "content %q not found", condo.Clip(ref))
}

func notFoundIf(err error, ref string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return itemNotFound(ref)
	}
	return err
}

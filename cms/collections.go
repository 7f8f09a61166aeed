package cms

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/condohq/condo"
)

// collectionName is what a collection may be called: it names routes and
// index names, so it is strict.
var collectionName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// ValidCollectionName reports whether name can name a collection.
func ValidCollectionName(name string) bool { return collectionName.MatchString(name) }

// NewCollection describes a collection to create.
type NewCollection struct {
	Name        string          `json:"name"`
	DisplayName string          `json:"display_name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Public      bool            `json:"public"`
	Cache       CachePolicy     `json:"cache"`
}

// CollectionUpdate changes some of a collection; nil fields stay.
type CollectionUpdate struct {
	DisplayName *string         `json:"display_name"`
	Description *string         `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Public      *bool           `json:"public"`
	// Cache, when given, replaces the collection's cache policy (an empty
	// object restores the defaults).
	Cache *CachePolicy `json:"cache"`
}

// CreateCollection adds a collection and the indexes of its indexed fields.
func (s *Store) CreateCollection(ctx context.Context, in NewCollection) (*Collection, error) {
	if !collectionName.MatchString(in.Name) {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_name",
			"a collection name is 1-63 lower-case letters, digits and underscores, starting with a letter")
	}
	if in.DisplayName == "" {
		in.DisplayName = in.Name
	}
	if err := validateLabel("display_name", in.DisplayName, 200); err != nil {
		return nil, err
	}
	if err := validateLabel("description", in.Description, 2000); err != nil {
		return nil, err
	}
	if err := in.Cache.validate(); err != nil {
		return nil, err
	}
	if len(in.Schema) == 0 {
		in.Schema = json.RawMessage(`{"type":"object","properties":{}}`)
	}
	schema, err := ParseSchema(in.Schema)
	if err != nil {
		return nil, err
	}
	now := s.now()
	col := &Collection{ID: condo.NewID(), Name: in.Name, DisplayName: in.DisplayName, Description: in.Description,
		Schema: schema, Public: in.Public, Cache: in.Cache, Version: 1, CreatedAt: condo.FromUnixMS(condo.UnixMS(now)), UpdatedAt: condo.FromUnixMS(condo.UnixMS(now))}
	err = s.transact(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO collections (id, name, display_name, description, schema, is_public, cache_max_age, cache_stale,
			version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`, col.ID, col.Name, col.DisplayName, col.Description,
			rawJSON(schema), col.Public, col.Cache.MaxAge, col.Cache.StaleWhileRevalidate, condo.UnixMS(now), condo.UnixMS(now))
		if s.DB.IsUnique(err) {
			return condo.ReasonErrorf(condo.ECONFLICT, "collection_exists", "collection %q exists already", in.Name)
		}
		if err != nil {
			return err
		}
		return syncIndexes(ctx, tx, col)
	})
	if err != nil {
		return nil, err
	}
	return col, nil
}

const selectCollection = `SELECT id, name, display_name, description, schema, is_public, cache_max_age, cache_stale, version,
	created_at, updated_at FROM collections`

func scanCollection(row interface{ Scan(...any) error }) (*Collection, error) {
	var c Collection
	var schema string
	var maxAge, stale sql.NullInt64
	var created, updated int64
	if err := row.Scan(&c.ID, &c.Name, &c.DisplayName, &c.Description, &schema, &c.Public, &maxAge, &stale, &c.Version,
		&created, &updated); err != nil {
		return nil, err
	}
	c.Cache = CachePolicy{MaxAge: intPtr(maxAge), StaleWhileRevalidate: intPtr(stale)}
	var err error
	if c.Schema, err = ParseSchema(json.RawMessage(schema)); err != nil {
		return nil, fmt.Errorf("collection %s: stored schema: %w", c.Name, err)
	}
	c.CreatedAt, c.UpdatedAt = condo.FromUnixMS(created), condo.FromUnixMS(updated)
	return &c, nil
}

// Collection returns a collection by name.
func (s *Store) Collection(ctx context.Context, name string) (*Collection, error) {
	c, err := scanCollection(s.DB.Reader().QueryRowContext(ctx, selectCollection+" WHERE name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, condo.ReasonErrorf(condo.ENOTFOUND, "collection_not_found", "collection %q not found", condo.Clip(name))
	}
	return c, err
}

// Collections lists the collections by name.
func (s *Store) Collections(ctx context.Context) ([]*Collection, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, selectCollection+" ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Collection{}
	for rows.Next() {
		c, err := scanCollection(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// MaxConflicts bounds the conflicts a refused schema change lists.
const MaxConflicts = 100

func intPtr(v sql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	n := int(v.Int64)
	return &n
}

// UpdateCollection applies u and bumps the collection's version. check,
// when not nil, sees the collection inside the write transaction, before
// it changes, and may refuse (If-Match). A new schema must accept every item of the
// collection (the trash included, so a restore cannot bring back an
// invalid item); otherwise nothing changes and the error lists the
// conflicts as fields "<item id>.<field>".
func (s *Store) UpdateCollection(ctx context.Context, name string, u CollectionUpdate, check func(cur *Collection) error) (*Collection, error) {
	var out *Collection
	err := s.transact(ctx, func(tx *sql.Tx) error {
		col, err := scanCollection(tx.QueryRowContext(ctx, selectCollection+" WHERE name = ?", name))
		if errors.Is(err, sql.ErrNoRows) {
			return condo.ReasonErrorf(condo.ENOTFOUND, "collection_not_found", "collection %q not found", condo.Clip(name))
		}
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(col); err != nil {
				return err
			}
		}
		if u.Cache != nil {
			if err := u.Cache.validate(); err != nil {
				return err
			}
			col.Cache = *u.Cache
		}
		if u.DisplayName != nil {
			if err := validateLabel("display_name", *u.DisplayName, 200); err != nil {
				return err
			}
			col.DisplayName = *u.DisplayName
		}
		if u.Description != nil {
			if err := validateLabel("description", *u.Description, 2000); err != nil {
				return err
			}
			col.Description = *u.Description
		}
		if u.Public != nil {
			col.Public = *u.Public
		}
		if len(u.Schema) > 0 {
			schema, err := ParseSchema(u.Schema)
			if err != nil {
				return err
			}
			if err := s.checkExisting(ctx, tx, col.ID, schema); err != nil {
				return err
			}
			col.Schema = schema
		}
		col.UpdatedAt = condo.FromUnixMS(condo.UnixMS(s.now()))
		col.Version++
		if _, err := tx.ExecContext(ctx, `UPDATE collections SET display_name = ?, description = ?, schema = ?, is_public = ?,
			cache_max_age = ?, cache_stale = ?, version = ?, updated_at = ? WHERE id = ?`, col.DisplayName, col.Description, rawJSON(col.Schema),
			col.Public, col.Cache.MaxAge, col.Cache.StaleWhileRevalidate, col.Version, condo.UnixMS(col.UpdatedAt), col.ID); err != nil {
			return err
		}
		out = col
		return syncIndexes(ctx, tx, col)
	})
	return out, err
}

// checkExisting validates every item of a collection against schema.
func (s *Store) checkExisting(ctx context.Context, tx *sql.Tx, collectionID string, schema *Schema) error {
	rows, err := tx.QueryContext(ctx, "SELECT id, data FROM content WHERE collection_id = ? ORDER BY id", collectionID)
	if err != nil {
		return err
	}
	defer rows.Close()
	conflicts := map[string]string{}
	res := txResolver{db: s.DB, tx: tx}
	for rows.Next() && len(conflicts) < MaxConflicts {
		var id, data string
		if err := rows.Scan(&id, &data); err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			return err
		}
		_, bad, err := schema.Validate(ctx, m, res)
		if err != nil {
			return err
		}
		for f, msg := range bad {
			conflicts[id+"."+f] = msg
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(conflicts) > 0 {
		return &condo.Error{Code: condo.ECONFLICT, Reason: "schema_conflict", Fields: conflicts,
			Message: fmt.Sprintf("the new schema does not accept %d existing values (listed by item and field, at most %d): fix them or relax the schema", len(conflicts), MaxConflicts)}
	}
	return nil
}

// DeleteCollection removes an empty collection (its trash included).
// check, when not nil, sees the collection inside the write transaction
// and may refuse (If-Match).
func (s *Store) DeleteCollection(ctx context.Context, name string, check func(cur *Collection) error) error {
	return s.transact(ctx, func(tx *sql.Tx) error {
		col, err := scanCollection(tx.QueryRowContext(ctx, selectCollection+" WHERE name = ?", name))
		if errors.Is(err, sql.ErrNoRows) {
			return condo.ReasonErrorf(condo.ENOTFOUND, "collection_not_found", "collection %q not found", condo.Clip(name))
		}
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(col); err != nil {
				return err
			}
		}
		id := col.ID
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM content WHERE collection_id = ?", id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return condo.ReasonErrorf(condo.ECONFLICT, "collection_not_empty", "collection %q holds %d items (the trash included): delete them first", name, n)
		}
		if err := syncIndexes(ctx, tx, &Collection{ID: id, Name: name, Schema: &Schema{}}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM collections WHERE id = ?", id)
		return err
	})
}

// indexPrefix starts the names of the expression indexes Condo keeps for
// indexed fields: cx_<collection>__<field>.
const indexPrefix = "cx_"

// syncIndexes makes the collection's expression indexes match its indexed
// fields: one per field on (collection_id, json_extract(data, '$.field'),
// created_at, id) over live items, so filters and sorts on it use an
// index. Names are interpolated into SQL: both are checked identifiers.
func syncIndexes(ctx context.Context, tx *sql.Tx, col *Collection) error {
	prefix := indexPrefix + col.Name + "__"
	want := map[string]string{}
	for _, f := range col.Schema.IndexedFields() {
		if !fieldNamePattern.MatchString(f.Name) || !collectionName.MatchString(col.Name) {
			return fmt.Errorf("refusing to index %s.%s: not an identifier", col.Name, f.Name)
		}
		want[prefix+f.Name] = fmt.Sprintf(`CREATE INDEX IF NOT EXISTS "%s%s" ON content (collection_id, json_extract(data, '$.%s'), created_at, id) WHERE deleted_at IS NULL`,
			prefix, f.Name, f.Name)
	}
	rows, err := tx.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'content' AND substr(name, 1, ?) = ?", len(prefix), prefix)
	if err != nil {
		return err
	}
	var have []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		have = append(have, n)
	}
	rows.Close()
	for _, n := range have {
		if _, ok := want[n]; ok {
			delete(want, n)
			continue
		}
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+strings.ReplaceAll(n, `"`, ``)+`"`); err != nil {
			return err
		}
	}
	for _, stmt := range want {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

func validateLabel(name, v string, max int) error {
	if len(v) > max || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r") {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_"+name, "%s is at most %d bytes of valid UTF-8", name, max)
	}
	return nil
}

package migrations_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condohq/condo/migrations"
)

// A client writing raw SQL to a tenant database (the libSQL endpoint)
// cannot store invalid JSON in a JSON column nor a status the workflow
// does not know: the database refuses both, on insert and on update.
func TestTenant_RefusesInvalidJSONAndStatus(t *testing.T) {
	ctx := context.Background()
	set := migrations.Tenant()
	db := mustDB(t, filepath.Join(t.TempDir(), "x.db"))
	if _, err := set.Apply(ctx, db.Write, set.Latest()); err != nil {
		t.Fatal(err)
	}
	mustExec := func(q string) {
		t.Helper()
		if _, err := db.Write.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`INSERT INTO collections (id, name, display_name, created_at, updated_at) VALUES ('c1', 'posts', 'Posts', 1, 1)`)
	mustExec(`INSERT INTO content (id, collection_id, slug, status, created_at, updated_at) VALUES ('i1', 'c1', 'a', 'published', 1, 1)`)
	for _, q := range []string{
		`INSERT INTO content (id, collection_id, slug, status, created_at, updated_at) VALUES ('i2', 'c1', 'b', 'live', 1, 1)`,
		`UPDATE content SET status = 'Published' WHERE id = 'i1'`,
		`INSERT INTO content (id, collection_id, slug, data, created_at, updated_at) VALUES ('i3', 'c1', 'c', '{not json', 1, 1)`,
		`UPDATE content SET data = '[1,' WHERE id = 'i1'`,
		`INSERT INTO collections (id, name, display_name, schema, created_at, updated_at) VALUES ('c2', 'x', 'X', 'nope', 1, 1)`,
		`INSERT INTO settings (key, value, updated_at) VALUES ('k', '{', 1)`,
		`INSERT INTO content_versions (content_id, version, data, created_at) VALUES ('i1', 2, 'x', 1)`,
	} {
		if _, err := db.Write.ExecContext(ctx, q); err == nil {
			t.Errorf("accepted: %s", q)
		} else if !strings.Contains(err.Error(), "CHECK constraint failed") && !strings.Contains(err.Error(), "invalid content status") {
			t.Errorf("%s: unexpected error %v", q, err)
		}
	}
	for _, st := range []string{"draft", "review", "published", "archived"} {
		mustExec(`UPDATE content SET status = '` + st + `' WHERE id = 'i1'`)
	}
}

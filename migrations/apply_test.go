package migrations_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gmsqlite "github.com/golang-migrate/migrate/v4/database/sqlite"

	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/sqlitedb"
)

func mustDB(tb testing.TB, path string) *sqlitedb.DB {
	tb.Helper()
	db, err := sqlitedb.Open(path, sqlitedb.Options{Create: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func version(tb testing.TB, db *sqlitedb.DB) (uint, bool) {
	tb.Helper()
	v, dirty, err := migrations.Version(context.Background(), db.Read)
	if err != nil {
		tb.Fatal(err)
	}
	return v, dirty
}

func TestEmbeddedSets(t *testing.T) {
	ctx := context.Background()
	for _, set := range []*migrations.Set{migrations.Catalog(), migrations.Tenant()} {
		t.Run(set.Name, func(t *testing.T) {
			db := mustDB(t, filepath.Join(t.TempDir(), "x.db"))
			// Up, down to zero, and up again: every down undoes its up.
			for _, target := range []uint{set.Latest(), 0, set.Latest()} {
				if _, err := set.Apply(ctx, db.Write, target); err != nil {
					t.Fatalf("apply to %d: %v", target, err)
				}
				if v, dirty := version(t, db); v != target || dirty {
					t.Fatalf("version = %d dirty=%v, want %d", v, dirty, target)
				}
			}
			// golang-migrate's own driver reads the same version.
			drv, err := gmsqlite.WithInstance(db.Write, &gmsqlite.Config{})
			if err != nil {
				t.Fatal(err)
			}
			if v, dirty, err := drv.Version(); err != nil || uint(v) != set.Latest() || dirty {
				t.Errorf("golang-migrate sees %d dirty=%v (%v), want %d", v, dirty, err, set.Latest())
			}
		})
	}
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	set, err := migrations.Load(os.DirFS("testdata"), "failing")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("FailureLeavesOldVersion", func(t *testing.T) {
		db := mustDB(t, filepath.Join(t.TempDir(), "x.db"))
		if _, err := set.Apply(ctx, db.Write, 1); err != nil {
			t.Fatal(err)
		}
		db.Write.Exec("INSERT INTO items (n) VALUES (1), (1)") // violates 2's unique index
		if _, err := set.Apply(ctx, db.Write, 2); err == nil {
			t.Fatal("migration over violating data succeeded")
		}
		if v, dirty := version(t, db); v != 1 || dirty {
			t.Errorf("after failure: %d dirty=%v, want 1 clean", v, dirty)
		}
		var cols int
		db.Read.QueryRow("SELECT count(*) FROM pragma_table_info('items') WHERE name = 'label'").Scan(&cols)
		if cols != 0 {
			t.Errorf("the failed step's first statement was kept")
		}
		db.Write.Exec("DELETE FROM items WHERE rowid = (SELECT max(rowid) FROM items)")
		if from, err := set.Apply(ctx, db.Write, 3); err != nil || from != 1 {
			t.Fatalf("after the fix: from %d, %v", from, err)
		}
		if v, dirty := version(t, db); v != 3 || dirty {
			t.Errorf("after fix: %d dirty=%v, want 3", v, dirty)
		}
	})

	t.Run("NoTransactionStep", func(t *testing.T) {
		db := mustDB(t, filepath.Join(t.TempDir(), "x.db"))
		// 1 and 2 commit together, then 3 (VACUUM) runs on its own.
		if _, err := set.Apply(ctx, db.Write, 3); err != nil {
			t.Fatal(err)
		}
		if v, dirty := version(t, db); v != 3 || dirty {
			t.Errorf("%d dirty=%v, want 3 clean", v, dirty)
		}
	})

	t.Run("DirtyRefuses", func(t *testing.T) {
		db := mustDB(t, filepath.Join(t.TempDir(), "x.db"))
		set.Apply(ctx, db.Write, 1)
		db.Write.Exec("UPDATE schema_migrations SET dirty = 1")
		_, err := set.Apply(ctx, db.Write, 2)
		var de *migrations.DirtyError
		if !errors.As(err, &de) || de.Version != 1 {
			t.Fatalf("dirty database: %v, want DirtyError at 1", err)
		}
		if err := set.Force(ctx, db.Write, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := set.Apply(ctx, db.Write, 2); err != nil {
			t.Errorf("after force: %v", err)
		}
	})

	t.Run("UnknownVersion", func(t *testing.T) {
		db := mustDB(t, filepath.Join(t.TempDir(), "x.db"))
		if _, err := set.Apply(ctx, db.Write, 7); err == nil {
			t.Error("apply to an unknown version succeeded")
		}
	})

	// An older binary's set (without 3) meets a database at 3: every
	// target refuses at once, naming the version, instead of looping.
	t.Run("AheadRefuses", func(t *testing.T) {
		old := t.TempDir()
		for _, f := range []string{"000001_a.up.sql", "000001_a.down.sql", "000002_b.up.sql", "000002_b.down.sql"} {
			b, err := os.ReadFile(filepath.Join("testdata", "failing", f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(old, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		older, err := migrations.LoadDir(old, "tenant")
		if err != nil {
			t.Fatal(err)
		}
		db := mustDB(t, filepath.Join(t.TempDir(), "x.db"))
		if _, err := set.Apply(ctx, db.Write, 3); err != nil {
			t.Fatal(err)
		}
		for _, target := range []uint{2, 1} {
			done := make(chan error, 1)
			go func() { _, err := older.Apply(ctx, db.Write, target); done <- err }()
			select {
			case err := <-done:
				var ae *migrations.AheadError
				if !errors.As(err, &ae) || ae.Version != 3 || ae.Latest != 2 {
					t.Errorf("apply to %d: %v, want AheadError at 3, latest 2", target, err)
				}
			case <-time.After(30 * time.Second): // a guard against the old spin, not a measure
				t.Fatalf("apply to %d did not return: it spins", target)
			}
		}
		if v, dirty := version(t, db); v != 3 || dirty {
			t.Errorf("%d dirty=%v, want 3 untouched", v, dirty)
		}
	})

	// Two writers (as two processes would) migrate one file at once: each
	// step runs once, and both end at the target.
	t.Run("ConcurrentWriters", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "x.db")
		dbs := []*sqlitedb.DB{mustDB(t, path), mustDB(t, path), mustDB(t, path)}
		// Like every tenant file, this one is in WAL mode before anyone
		// migrates it (switching modes is not a busy-waiting operation).
		if _, err := dbs[0].Write.Exec("CREATE TABLE t (x)"); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(dbs))
		for i, db := range dbs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = set.Apply(ctx, db.Write, 2)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Errorf("concurrent apply: %v", err)
			}
		}
		if v, dirty := version(t, dbs[0]); v != 2 || dirty {
			t.Errorf("%d dirty=%v, want 2", v, dirty)
		}
		var rows int
		dbs[0].Read.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&rows)
		if rows != 1 {
			t.Errorf("schema_migrations has %d rows, want 1", rows)
		}
	})
}

// writeSet writes migration files (name → SQL) into a new directory and
// loads them.
func writeSet(t *testing.T, files map[string]string) (*migrations.Set, error) {
	t.Helper()
	dir := t.TempDir()
	for name, sql := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return migrations.LoadDir(dir, "test")
}

// A down step parks the application's indexes on a table before dropping
// a column they use; its up step, the way back, restores them exactly.
func TestApply_ParkIndexes(t *testing.T) {
	ctx := context.Background()
	set, err := writeSet(t, map[string]string{
		"000001_a.up.sql":   "CREATE TABLE items (id INTEGER PRIMARY KEY, data TEXT, gone INTEGER);",
		"000001_a.down.sql": "DROP TABLE items;",
		"000002_b.up.sql":   "ALTER TABLE items ADD COLUMN deleted INTEGER;\n" + migrations.RestoreIndexes + " items app_\n",
		"000002_b.down.sql": migrations.ParkIndexes + " items app_\nALTER TABLE items DROP COLUMN deleted;\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	db := mustDB(t, filepath.Join(t.TempDir(), "x.db"))
	if _, err := set.Apply(ctx, db.Write, 2); err != nil {
		t.Fatal(err)
	}
	// What an application creates at run time, named by its data.
	for _, q := range []string{
		`CREATE INDEX "app_x" ON items (json_extract(data, '$.x')) WHERE deleted IS NULL`,
		`CREATE UNIQUE INDEX app_y ON items (json_extract(data, '$.y'), deleted)`,
		`CREATE INDEX other ON items (gone)`, // not the application's: untouched
	} {
		if _, err := db.Write.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	indexes := func() string {
		var s string
		db.Read.QueryRow(`SELECT group_concat(name || ': ' || sql, '; ') FROM (SELECT name, sql FROM sqlite_schema WHERE type = 'index' ORDER BY name)`).Scan(&s)
		return s
	}
	want := indexes()
	if _, err := set.Apply(ctx, db.Write, 1); err != nil {
		t.Fatalf("down with indexes on the dropped column: %v", err)
	}
	if got := indexes(); got != "other: CREATE INDEX other ON items (gone)" {
		t.Errorf("indexes at 1 = %q", got)
	}
	if _, err := set.Apply(ctx, db.Write, 2); err != nil {
		t.Fatal(err)
	}
	if got := indexes(); got != want {
		t.Errorf("indexes back at 2 = %q, want %q", got, want)
	}
	var parked int
	db.Read.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name = 'condo_parked_indexes'").Scan(&parked)
	if parked != 0 {
		t.Error("the parking table was left behind")
	}

	for name, line := range map[string]string{
		"Unknown":     "-- condo:park-index items app_",
		"NoPrefix":    migrations.ParkIndexes + " items",
		"BadTable":    migrations.ParkIndexes + " items; app_",
		"InANoTxStep": migrations.NoTransaction + "\n" + migrations.ParkIndexes + " items app_",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := writeSet(t, map[string]string{"000001_a.up.sql": line + "\nSELECT 1;"}); err == nil {
				t.Errorf("%q loaded", line)
			}
		})
	}
}

// Rolling a tenant database down to 1 and up again keeps what the down
// files would otherwise drop for good: custom roles, the audit log, token
// prefixes, password change times, and content's trash, schedules,
// versions and media checksums. No parking table is left behind.
func TestTenant_RoundTripKeepsData(t *testing.T) {
	ctx := context.Background()
	set := migrations.Tenant()
	db := mustDB(t, filepath.Join(t.TempDir(), "x.db"))
	if _, err := set.Apply(ctx, db.Write, set.Latest()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write.Exec(`
		INSERT INTO users (id, email, created_at, updated_at, password_changed_at) VALUES ('u1', 'a@b.c', 1, 1, 42);
		INSERT INTO api_tokens (id, name, token_hash, user_id, created_at, prefix) VALUES ('k1', 'ci', 'h', 'u1', 1, 'condo_t_ab');
		INSERT INTO roles (name, description, permissions, created_at, updated_at) VALUES ('reviewer', 'r', '["content:read"]', 1, 2);
		INSERT INTO audit_log (category, action, actor_id, detail, created_at) VALUES ('audit', 'role.create', 'u1', '{"x":1}', 7);
		INSERT INTO collections (id, name, display_name, created_at, updated_at) VALUES ('c1', 'posts', 'Posts', 1, 1);
		INSERT INTO content (id, collection_id, slug, title, created_at, updated_at, version, deleted_at, publish_at, updated_by)
			VALUES ('i1', 'c1', 'a', 'A', 1, 1, 3, 99, 1000, 'u1'), ('i2', 'c1', 'b', 'B', 1, 1, 1, NULL, NULL, NULL);
		INSERT INTO content_versions (content_id, version, data, created_at) VALUES ('i1', 1, '{}', 1), ('i1', 2, '{}', 2), ('i1', 3, '{}', 3), ('i2', 1, '{}', 1);
		INSERT INTO media (id, filename, original_name, mime_type, size, created_at, updated_at, sha256) VALUES ('m1', 'f', 'f', 'text/plain', 1, 1, 1, 'abc');
	`); err != nil {
		t.Fatal(err)
	}
	dump := func() string {
		var b strings.Builder
		for _, q := range []string{
			"SELECT id || ':' || ifnull(password_changed_at, '-') FROM users",
			"SELECT id || ':' || prefix FROM api_tokens",
			"SELECT name || ':' || description || ':' || permissions || ':' || created_at || ':' || updated_at FROM roles",
			"SELECT id || ':' || action || ':' || actor_id || ':' || detail || ':' || created_at FROM audit_log",
			"SELECT id || ':' || version || ':' || ifnull(deleted_at, '-') || ':' || ifnull(publish_at, '-') || ':' || ifnull(updated_by, '-') FROM content ORDER BY id",
			"SELECT count(*) FROM content_fts WHERE content_fts MATCH 'A OR B'", // the trashed item stays out of search
			"SELECT id || ':' || sha256 FROM media",
			"SELECT group_concat(name) FROM sqlite_schema WHERE name LIKE 'condo_parked%'",
		} {
			rows, err := db.Read.Query(q)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			for rows.Next() {
				var s sql.NullString
				rows.Scan(&s)
				b.WriteString(s.String + "\n")
			}
			rows.Close()
		}
		return b.String()
	}
	want := dump()
	for _, v := range []uint{1, set.Latest()} {
		if _, err := set.Apply(ctx, db.Write, v); err != nil {
			t.Fatalf("apply to %d: %v", v, err)
		}
	}
	if got := dump(); got != want {
		t.Errorf("after down to 1 and up:\n%s\nwant\n%s", got, want)
	}
}

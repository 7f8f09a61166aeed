package move

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/condohq/condo/sqlitedb"
)

// changedPages names the pages written since a salt was read, and says
// it cannot tell once the WAL has started over (the catch-up then
// compares every page).
func TestChangedPages(t *testing.T) {
	ctx := context.Background()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "t.db"), sqlitedb.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := db.Write.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	exec("CREATE TABLE t (x)")
	exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO t SELECT randomblob(400) FROM n")
	exec("PRAGMA wal_checkpoint(TRUNCATE)")
	exec("INSERT INTO t VALUES (1)") // the WAL's first frames of a new generation
	salt := walSalt(db.Path)
	if salt == "" {
		t.Fatal("no WAL salt")
	}
	exec("UPDATE t SET x = 2 WHERE rowid = 1") // the first leaf page
	pages, ok := changedPages(db.Path, salt, 4096)
	if !ok || len(pages) == 0 || len(pages) > 4 {
		t.Fatalf("changed pages: %v %v", pages, ok)
	}
	exec("PRAGMA wal_checkpoint(TRUNCATE)")
	exec("INSERT INTO t VALUES (3)")
	if _, ok := changedPages(db.Path, salt, 4096); ok {
		t.Fatal("a WAL that started over was trusted")
	}
}

package sqlitedb_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/condohq/condo/sqlitedb"
)

// A job's connection keeps the pragmas that decide correctness and
// durability and leaves SQLite's defaults for the ones that only tune a
// long-lived connection.
func TestOpen_Job(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := sqlitedb.Open(path, sqlitedb.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write.ExecContext(ctx, "CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = sqlitedb.Open(path, sqlitedb.Options{Job: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for pragma, want := range map[string]int{
		"foreign_keys":       1,
		"synchronous":        1, // NORMAL
		"busy_timeout":       int(sqlitedb.DefaultBusyTimeout.Milliseconds()),
		"journal_size_limit": 1048576,
		"wal_autocheckpoint": 1000,  // SQLite's default: not set
		"cache_size":         -2000, // SQLite's default: not set
	} {
		var got int
		if err := db.Write.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %d, want %d", pragma, got, want)
		}
	}
	var mode string
	if err := db.Write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q (%v), want wal", mode, err)
	}
}

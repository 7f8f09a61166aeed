package sqlitedb_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/internal/disktest"
	"github.com/condohq/condo/sqlitedb"
)

// TestTransact_DiskFull fills a real file system under a database: a
// write transaction fails with EFULL (found by SQLite's result code, and
// with a message that names no path), reads keep working, and writes work
// again once space is freed, on the same handle.
func TestTransact_DiskFull(t *testing.T) {
	dir := disktest.MustMount(t, 4<<20)
	db, err := sqlitedb.Open(filepath.Join(dir, "t.db"), sqlitedb.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := db.Write.Exec("CREATE TABLE t (v BLOB)"); err != nil {
		t.Fatal(err)
	}
	insert := func() error {
		return db.Transact(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO t (v) VALUES (randomblob(16384))")
			return err
		})
	}
	if err := insert(); err != nil {
		t.Fatal(err)
	}

	free := disktest.MustFill(t, dir)
	// The WAL may still have room that is allocated already; a few
	// hundred KiB of rows use it up.
	var full error
	for i := 0; i < 1000 && full == nil; i++ {
		full = insert()
	}
	if got, want := condo.ErrorCode(full), condo.EFULL; got != want {
		t.Fatalf("write on a full disk: code %q (%v), want %q", got, full, want)
	}
	if !sqlitedb.IsFull(full) {
		t.Errorf("IsFull(%v) = false", full)
	}
	if msg := condo.ErrorMessage(full); strings.Contains(msg, dir) || strings.Contains(msg, "t.db") {
		t.Errorf("message names a path: %q", msg)
	}
	var n int
	if err := db.Read.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n == 0 {
		t.Fatalf("read on a full disk: %d rows, %v", n, err)
	}

	free()
	if err := insert(); err != nil {
		t.Fatalf("write after freeing space: %v", err)
	}
	var after int
	if err := db.Read.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&after); err != nil || after != n+1 {
		t.Fatalf("rows after freeing space = %d (%v), want %d", after, err, n+1)
	}
}

func TestClassify(t *testing.T) {
	plain := errors.New("boom")
	if got := sqlitedb.Classify(plain); got != plain {
		t.Errorf("Classify(plain) = %v, want it unchanged", got)
	}
	if sqlitedb.Classify(nil) != nil {
		t.Errorf("Classify(nil) != nil")
	}
}

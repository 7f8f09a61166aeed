package sqlitedb_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/sqlitedb"
)

// A fenced file refuses commits on every writable connection, reads go
// on, and a writer that waited for a held write lock fails at commit.
func TestFence(t *testing.T) {
	ctx := context.Background()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "t.db"), sqlitedb.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Write.ExecContext(ctx, "CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	insert := func() error { _, err := db.Write.ExecContext(ctx, "INSERT INTO t VALUES (1)"); return err }
	if err := insert(); err != nil {
		t.Fatal(err)
	}
	sqlitedb.Fence(db.Path)
	defer sqlitedb.Unfence(db.Path)
	if err := insert(); !sqlitedb.IsFenced(err) {
		t.Fatalf("fenced insert: %v", err)
	}
	err = db.Transact(ctx, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (2)"); return err })
	if condo.ErrorReason(err) != "tenant_moved" { // Transact classifies it
		t.Fatalf("fenced transaction: %v", err)
	}
	var n int
	if err := db.Read.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("read while fenced: %d %v", n, err)
	}
	sqlitedb.Unfence(db.Path)
	if err := insert(); err != nil {
		t.Fatal(err)
	}

	// A snapshot taken under a held write lock is the committed state.
	conn, err := db.Write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "snap.db")
	rc, err := db.Read.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := sqlitedb.Snapshot(ctx, rc, dst); err != nil {
		t.Fatal(err)
	}
	conn.ExecContext(ctx, "ROLLBACK")
	snap, err := sqlitedb.Open(dst, sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if err := snap.Read.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatalf("snapshot: %d %v", n, err)
	}
}

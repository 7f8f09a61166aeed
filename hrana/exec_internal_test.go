package hrana

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/condohq/condo/sqlitedb"
)

func TestIsBeginReadOnly(t *testing.T) {
	for sql, want := range map[string]bool{
		"BEGIN TRANSACTION READONLY":                   true,
		"begin transaction readonly;":                  true,
		" BEGIN\n\tTRANSACTION /* mode */ READONLY ; ": true,
		"BEGIN READONLY":                               true,
		"BEGIN -- read\n TRANSACTION READONLY -- x":    true,
		"BEGIN":                               false,
		"BEGIN TRANSACTION":                   false,
		"BEGIN DEFERRED TRANSACTION READONLY": false,
		"BEGIN TRANSACTION READONLY; INSERT INTO t": false,
		"BEGIN TRANSACTION READONLYX":               false,
		`BEGIN TRANSACTION "READONLY"`:              false,
		"SELECT 'BEGIN TRANSACTION READONLY'":       false,
	} {
		if got := isBeginReadOnly(sql); got != want {
			t.Errorf("isBeginReadOnly(%q) = %v, want %v", sql, got, want)
		}
	}
}

// TestConn_ReadOnlyTx follows the read-only transaction's state, which
// turns the guard's ReadOnlyTx on and off: on after BEGIN TRANSACTION
// READONLY, off once the connection is back in autocommit mode however the
// transaction ended.
func TestConn_ReadOnlyTx(t *testing.T) {
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "t.db"), sqlitedb.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Write.Exec("CREATE TABLE t (a)"); err != nil {
		t.Fatal(err)
	}
	sc, err := db.StreamConn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := NewConn(sc, nil)
	defer c.Close()
	run := func(sql string) {
		t.Helper()
		_, _, perr := c.Do(context.Background(), 2, &StreamRequest{Type: "execute", Stmt: &Stmt{SQL: &sql}})
		if perr != nil {
			t.Fatal(perr)
		}
	}
	run("BEGIN TRANSACTION READONLY")
	if !c.readOnlyTx {
		t.Fatal("not read-only after BEGIN TRANSACTION READONLY")
	}
	run("SELECT * FROM t")
	if !c.readOnlyTx {
		t.Fatal("not read-only after a read")
	}
	run("COMMIT")
	if c.readOnlyTx {
		t.Fatal("read-only after COMMIT")
	}
	run("BEGIN TRANSACTION READONLY")
	run("BEGIN TRANSACTION READONLY") // fails: a transaction is open; stays on
	if !c.readOnlyTx {
		t.Fatal("a failed nested BEGIN turned read-only off")
	}
	run("ROLLBACK")
	if c.readOnlyTx {
		t.Fatal("read-only after ROLLBACK")
	}
	run("BEGIN TRANSACTION READONLY")
	seq := "SELECT 1; COMMIT"
	c.Do(context.Background(), 2, &StreamRequest{Type: "sequence", SQL: &seq})
	if c.readOnlyTx {
		t.Fatal("read-only after a sequence's COMMIT")
	}
	run("BEGIN TRANSACTION READONLY")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if c.readOnlyTx {
		t.Fatal("read-only after Close")
	}
}

package sqlitedb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/sqlitedb"
)

// TestIsUnique violates real constraints on a real file: a duplicate
// UNIQUE column and a duplicate PRIMARY KEY (rowid and WITHOUT ROWID) are
// unique failures, through Transact and wrapped too; NOT NULL, CHECK and
// FOREIGN KEY failures, another error and nil are not.
func TestIsUnique(t *testing.T) {
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "u.db"), sqlitedb.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE p (id INTEGER PRIMARY KEY)`,
		`CREATE TABLE t (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, n INTEGER CHECK (n >= 0), p INTEGER REFERENCES p (id))`,
		`CREATE TABLE w (k TEXT PRIMARY KEY) WITHOUT ROWID`,
		`INSERT INTO p VALUES (1)`,
		`INSERT INTO t VALUES ('a', 'a@example.com', 0, 1)`,
		`INSERT INTO w VALUES ('k')`,
	} {
		if _, err := db.Write.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	insert := func(q string) error {
		return db.Transact(ctx, func(tx *sql.Tx) error {
			_, err := db.ExecTx(ctx, tx, q)
			return err
		})
	}
	var d condo.DB = db
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"UniqueColumn", insert(`INSERT INTO t VALUES ('b', 'a@example.com', 0, 1)`), true},
		{"PrimaryKey", insert(`INSERT INTO t VALUES ('a', 'b@example.com', 0, 1)`), true},
		{"IntegerPrimaryKey", insert(`INSERT INTO p VALUES (1)`), true},
		{"WithoutRowid", insert(`INSERT INTO w VALUES ('k')`), true},
		{"Wrapped", fmt.Errorf("create: %w", insert(`INSERT INTO w VALUES ('k')`)), true},
		{"NotNull", insert(`INSERT INTO t VALUES ('c', NULL, 0, 1)`), false},
		{"Check", insert(`INSERT INTO t VALUES ('d', 'd@example.com', -1, 1)`), false},
		{"ForeignKey", insert(`INSERT INTO t VALUES ('e', 'e@example.com', 0, 2)`), false},
		{"Syntax", insert(`INSERT INTO nowhere VALUES (1)`), false},
		{"Other", errors.New("UNIQUE constraint failed: t.email"), false}, // text alone is not the code
		{"Nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil && tc.name != "Nil" {
				t.Fatal("the statement succeeded; it must fail")
			}
			if got := sqlitedb.IsUnique(tc.err); got != tc.want {
				t.Errorf("IsUnique(%v) = %v, want %v", tc.err, got, tc.want)
			}
			if got := d.IsUnique(tc.err); got != tc.want {
				t.Errorf("condo.DB.IsUnique(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

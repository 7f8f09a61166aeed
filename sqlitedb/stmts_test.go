package sqlitedb_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo/sqlitedb"
)

// TestStmtsConcurrentWriters runs transactions from several goroutines on
// a fresh database, where every statement is first run unprepared and then
// prepared after a commit: preparing must never wait on a lock that a
// transaction waiting for the connection holds.
func TestStmtsConcurrentWriters(t *testing.T) {
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "t.db"), sqlitedb.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.Write.Exec("CREATE TABLE t (v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 50 {
					err := db.Transact(ctx, func(tx *sql.Tx) error {
						_, err := db.ExecTx(ctx, tx, "INSERT INTO t VALUES (?)", g*1000+i)
						return err
					})
					if err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("concurrent writers deadlocked")
	}
	var n int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 200 {
		t.Fatalf("rows %d, %v", n, err)
	}
}

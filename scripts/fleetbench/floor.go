package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // the plain driver, as "sqlite"
)

// floor is what plain SQLite needs to apply the migration's statements to
// every tenant file, with no catalog and no bookkeeping: open one
// connection, run the statements in one transaction, close (which
// checkpoints, as Condo's close does), on concurrency goroutines. It uses
// the durability Condo's connections use (synchronous=NORMAL) and nothing
// else, so the ratio of Condo's run to it is Condo's overhead.
func floor(ctx context.Context, data string, n, concurrency int, stmts string) (time.Duration, error) {
	ids := make(chan string)
	errs := make(chan error, concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for id := range ids {
				if err := floorOne(ctx, filepath.Join(data, "tenants", id, "tenant.db"), stmts); err != nil {
					errs <- fmt.Errorf("floor %s: %w", id, err)
					for range ids { // drain, so the feeder ends
					}
					return
				}
			}
		})
	}
	for i := range n {
		ids <- tenantID(i)
	}
	close(ids)
	wg.Wait()
	d := time.Since(start)
	select {
	case err := <-errs:
		return d, err
	default:
	}
	return d, nil
}

func floorOne(ctx context.Context, path, stmts string) error {
	q := url.Values{}
	q.Set("mode", "rw")
	q.Add("_pragma", "synchronous(NORMAL)")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, stmts); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return db.Close()
}

// settle flushes dirty pages before a timed pass, so one pass does not pay
// for the writeback of the one before it.
func settle() { syscall.Sync() }

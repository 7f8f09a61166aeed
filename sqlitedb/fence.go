package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// A fenced database file refuses every commit made through this process's
// writable connections to it: a tenant moved to another node is fenced on
// its old node before the move lets go of the write lock, so a writer that
// was waiting for the lock (a request of the old epoch) fails at commit
// instead of writing to a copy nobody will read again. The check is a
// commit hook on every writable connection (installed by the driver's
// connection hook, see init), costing one atomic load per commit while no
// file is fenced, and a map lookup while one is.
var fences struct {
	n     atomic.Int32 // len(paths), read without the lock
	mu    sync.Mutex
	paths map[string]bool
}

// Fence makes every later commit to the database file at path (absolute,
// as DB.Path) fail in this process, until Unfence.
func Fence(path string) {
	fences.mu.Lock()
	defer fences.mu.Unlock()
	if fences.paths == nil {
		fences.paths = map[string]bool{}
	}
	if !fences.paths[path] {
		fences.paths[path] = true
		fences.n.Add(1)
	}
}

// Unfence lifts Fence (a move that failed after fencing, or a test).
func Unfence(path string) {
	fences.mu.Lock()
	defer fences.mu.Unlock()
	if fences.paths[path] {
		delete(fences.paths, path)
		fences.n.Add(-1)
	}
}

// Fenced reports whether path is fenced.
func Fenced(path string) bool {
	if fences.n.Load() == 0 {
		return false
	}
	fences.mu.Lock()
	defer fences.mu.Unlock()
	return fences.paths[path]
}

// installFence registers the fence's commit hook (which also serves the
// commit watches of commitwatch.go) on a new connection of
// dsn, when the connection can write.
func installFence(c any, dsn string) {
	hc, ok := c.(interface{ RegisterCommitHook(sqlite.CommitHookFn) })
	if !ok || strings.Contains(dsn, "query_only%281%29") || strings.Contains(dsn, "query_only(1)") {
		return
	}
	path := dsnPath(dsn)
	if path == "" {
		return
	}
	hc.RegisterCommitHook(func() int32 {
		if Fenced(path) {
			return 1 // the commit becomes a rollback: SQLITE_CONSTRAINT_COMMITHOOK
		}
		committed(path) // a commit watch (commitwatch.go)
		return 0
	})
}

// dsnPath is the file of a DSN built by dsn ("file:<escaped path>?...").
func dsnPath(dsn string) string {
	rest, ok := strings.CutPrefix(dsn, "file:")
	if !ok {
		return ""
	}
	rest, _, _ = strings.Cut(rest, "?")
	p, err := url.PathUnescape(rest)
	if err != nil {
		return ""
	}
	return p
}

// IsFenced reports whether err is a commit refused by a fence
// (SQLITE_CONSTRAINT_COMMITHOOK: no other commit hook is installed).
func IsFenced(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_COMMITHOOK
}

// Snapshot copies the database conn is open on to a new file at dst with
// SQLite's online backup: a page-for-page image, consistent as of the
// read transaction it runs in. conn must not be writing (SQLite refuses
// a backup from a connection in a write transaction): to copy a paused
// tenant, hold its write lock on one connection and snapshot on another.
// dst must not exist.
func Snapshot(ctx context.Context, conn *sql.Conn, dst string) error {
	return conn.Raw(func(dc any) error {
		b, ok := dc.(interface {
			NewBackup(string) (*sqlite.Backup, error)
		})
		if !ok {
			return fmt.Errorf("snapshot: the driver has no backup API")
		} else if err := ctx.Err(); err != nil {
			return err
		}
		bk, err := b.NewBackup("file:" + (&url.URL{Path: dst}).EscapedPath())
		if err != nil {
			return fmt.Errorf("snapshot to %s: %w", dst, err)
		}
		// All pages in one step: one read transaction, so writes by other
		// connections cannot restart the copy over and over.
		if _, err := bk.Step(-1); err != nil {
			bk.Finish()
			return fmt.Errorf("snapshot to %s: %w", dst, err)
		}
		return bk.Finish()
	})
}

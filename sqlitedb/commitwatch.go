package sqlitedb

import (
	"sync"
	"sync/atomic"
)

// A commit watch tells its owner, once, that a database file was
// committed to through this process's writable connections: the backup
// replicator registers a tenant with Litestream at its first write, so
// tenants that are only read (most of them, most of the time) cost it
// nothing. It rides on the fence's commit hook (fence.go): one atomic
// load per commit while no file is watched, a map lookup while some are.
var watches struct {
	n  atomic.Int32 // len(m), read without the lock
	mu sync.Mutex
	m  map[string]*watch
}

type watch struct{ fn func() }

// WatchCommits calls fn at the next commit to the file at path (absolute,
// as DB.Path), once, then forgets it; it replaces an earlier watch of
// path. fn runs inside SQLite's commit, on the committing goroutine: it
// must not block nor touch the database (it queues work). The returned
// stop drops the watch if it has not fired.
func WatchCommits(path string, fn func()) (stop func()) {
	w := &watch{fn: fn}
	watches.mu.Lock()
	defer watches.mu.Unlock()
	if watches.m == nil {
		watches.m = map[string]*watch{}
	}
	if _, ok := watches.m[path]; !ok {
		watches.n.Add(1)
	}
	watches.m[path] = w
	return func() {
		watches.mu.Lock()
		defer watches.mu.Unlock()
		if watches.m[path] == w {
			delete(watches.m, path)
			watches.n.Add(-1)
		}
	}
}

// committed runs in the commit hook of a writable connection of path.
func committed(path string) {
	if watches.n.Load() == 0 {
		return
	}
	watches.mu.Lock()
	w, ok := watches.m[path]
	if ok {
		delete(watches.m, path)
		watches.n.Add(-1)
	}
	watches.mu.Unlock()
	if ok {
		w.fn()
	}
}

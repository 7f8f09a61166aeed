package sqlitedb

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// DefaultStreamConns is the most stream connections (see StreamConn) open
// at once on one file. Each may hold a transaction across requests, so the
// bound is what one tenant may pin of the process's handles and memory.
const DefaultStreamConns = 16

// streamPool is the third pool of a DB: read-write connections each given
// to one libSQL stream (or one shell) alone. It opens on first use: most
// tenants never see a stream.
type streamPool struct {
	mu     sync.Mutex // guards pool and closed
	pool   *sql.DB
	closed bool
}

// ErrClosed is returned by StreamConn once the DB is closed.
var ErrClosed = errors.New("sqlitedb: database is closed")

// StreamIdleTime is how long an unused stream connection stays in its
// pool. Idle libSQL streams hand theirs back between transactions, so
// this, not the streams, decides what a tenant's idle streams cost: kept
// short, they cost nothing a few seconds after their last request.
const StreamIdleTime = 5 * time.Second

// StreamConn returns a read-write connection of the file for one libSQL
// stream (or one shell) alone, from a small pool opened on first use,
// separate from the writer and the readers. BEGIN on it is the client's
// own (deferred unless it says otherwise). The caller closes it. While
// DefaultStreamConns are out, it waits for one to come back or ctx to end.
func (db *DB) StreamConn(ctx context.Context) (*sql.Conn, error) {
	return db.streams.conn(ctx, func() string { return streamDSN(db.Path, db.opt, false) })
}

// ReadStreamConn is StreamConn for a stream that only reads: from a pool
// of its own whose connections are query_only by their connection string,
// so a read-only stream pays no pragma to become read-only and none to
// stop being so.
func (db *DB) ReadStreamConn(ctx context.Context) (*sql.Conn, error) {
	return db.readStreams.conn(ctx, func() string { return streamDSN(db.Path, db.opt, true) })
}

// conn takes a connection of the pool, opening the pool on dsn's
// connection string first.
func (p *streamPool) conn(ctx context.Context, dsn func() string) (*sql.Conn, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if p.pool == nil {
		pool, err := sql.Open(driverName, dsn())
		if err != nil {
			p.mu.Unlock()
			return nil, err
		}
		pool.SetMaxOpenConns(DefaultStreamConns)
		pool.SetMaxIdleConns(2)
		pool.SetConnMaxIdleTime(StreamIdleTime)
		p.pool = pool
	}
	pool := p.pool
	p.mu.Unlock()
	return pool.Conn(ctx)
}

// close closes the pool if it was opened; StreamConn fails afterwards.
func (p *streamPool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.pool == nil {
		return nil
	}
	return p.pool.Close()
}

// streamDSN is the writer's connection string (dsn) without _txlock, so
// a client's plain BEGIN is deferred as SQLite means it, and without
// journal_mode: the file exists and is in WAL mode by the time a stream
// opens.
func streamDSN(abs string, opt Options, readOnly bool) string {
	q := url.Values{}
	q.Set("mode", "rw")
	// Streams run their clients' SQL: defensive mode keeps it from
	// corrupting the file (writable_schema, shadow tables of FTS5) in
	// ways SQLite's authorizer cannot tell from FTS5's own writes.
	q.Set("_defensive", "1")
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(int(opt.BusyTimeout/time.Millisecond))+")")
	q.Add("_pragma", "cache_size(-"+strconv.Itoa(opt.CacheKiB)+")")
	q.Add("_pragma", "journal_size_limit(1048576)")
	q.Add("_pragma", "foreign_keys(1)")
	sync := "NORMAL"
	if opt.FullSync {
		sync = "FULL"
	}
	q.Add("_pragma", "synchronous("+sync+")")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	}
	return uri(abs, q)
}

// writerQueue records when each Transact waiting for its BEGIN started to
// wait, oldest first, so a stream holding the write lock can tell that the
// CMS is waiting behind it.
type writerQueue struct {
	mu      sync.Mutex // guards waiting
	waiting list.List  // of time.Time, in the order the waits began
}

// wait notes a Transact starting to wait; call the returned func once its
// BEGIN has returned.
func (q *writerQueue) wait() (done func()) {
	q.mu.Lock()
	e := q.waiting.PushBack(time.Now())
	q.mu.Unlock()
	return func() {
		q.mu.Lock()
		q.waiting.Remove(e)
		q.mu.Unlock()
	}
}

// WriterWaiting reports how long the longest-waiting Transact has waited
// to begin (0 when none waits): a stream holding the write lock gives it
// up when this grows.
func (db *DB) WriterWaiting() time.Duration {
	q := &db.writers
	q.mu.Lock()
	defer q.mu.Unlock()
	if e := q.waiting.Front(); e != nil {
		return time.Since(e.Value.(time.Time))
	}
	return 0
}

// StreamConnsInUse reports how many stream connections (read-write and
// read-only) are taken now.
func (db *DB) StreamConnsInUse() int { return db.streams.inUse() + db.readStreams.inUse() }

func (p *streamPool) inUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pool == nil {
		return 0
	}
	return p.pool.Stats().InUse
}

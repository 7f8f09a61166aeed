// Package sqlitedb opens SQLite files the way every Condo database is opened:
// WAL, synchronous=NORMAL, foreign keys on, a busy timeout, a
// single-connection writer whose transactions take the write lock up front,
// and a small pool of read-only readers so reads never queue behind a write.
// Both the catalog and every tenant database use it.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/condohq/condo"
)

// driverName is this package's own registration of modernc's driver, so
// its connection hook touches Condo's databases and no one else's.
const driverName = "condo-sqlite"

func init() {
	d := &sqlite.Driver{}
	// Keep the -wal and -shm files when a connection closes. SQLite
	// otherwise creates both on every open and unlinks them on every
	// close; with a pool that opens and closes tenants all day, that file
	// churn was the largest cost of a cold Acquire. The WAL is still
	// checkpointed on close and truncated to journal_size_limit.
	d.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, dsn string) error {
		installFence(c, dsn) // see fence.go
		fc, ok := c.(sqlite.FileControl)
		if !ok {
			return nil
		}
		_, err := fc.FileControlPersistWAL("main", 1)
		return err
	})
	sql.Register(driverName, d)
}

// Defaults for Options.
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultReaders     = 4
	// DefaultCacheKiB caps each connection's page cache. With thousands of
	// handles open, SQLite's default of about 2 MiB a connection would
	// dominate memory; 256 KiB keeps a hot tenant's working set cached.
	DefaultCacheKiB = 256
	// DefaultIdleTime is how long an unused connection stays open. A handle
	// keeps one idle reader; extra readers and an idle writer are closed
	// after this, so a pool of mostly-quiet tenants costs little memory.
	DefaultIdleTime = 30 * time.Second
)

// Options tune Open. The zero value means the defaults.
type Options struct {
	// Create allows Open to create a missing file, and puts the file in WAL
	// mode. Without it, a missing file is an error (a typo must never
	// conjure a database) and the file must be in WAL mode already, as
	// every file Condo creates is.
	Create bool
	// Readers is the most read connections open at once.
	Readers int
	// CacheKiB is each connection's page cache in KiB.
	CacheKiB int
	// ReadCacheKiB, if more than CacheKiB, is each reader's page cache
	// instead: a big database's searches and lists read more pages than
	// CacheKiB holds (see tenantstore's readCacheKiB).
	ReadCacheKiB int
	// BusyTimeout is how long a statement waits for another connection's
	// (or process's) lock before failing with SQLITE_BUSY.
	BusyTimeout time.Duration
	// FullSync uses synchronous=FULL instead of NORMAL: a commit is durable
	// across power loss, not only across a process crash.
	FullSync bool
	// Job opens the writer for one short job (a fleet migration): only the
	// pragmas that decide correctness, durability and the WAL's size left
	// on disk (busy_timeout, foreign_keys, synchronous,
	// journal_size_limit), none of those that tune a long-lived connection
	// (cache_size, wal_autocheckpoint), each of which costs a statement on
	// open.
	Job bool
	// Defensive turns on SQLITE_DBCONFIG_DEFENSIVE: ordinary SQL cannot
	// write virtual tables' shadow tables (an FTS5 index's storage, which
	// FTS5 itself still writes), sqlite_dbpage or the schema, nor turn
	// the journal off. For connections that run clients' SQL (the libSQL
	// endpoint, condo shell): an authorizer cannot tell FTS5's own writes
	// to its shadow tables from a client's.
	Defensive bool
	// SecureDelete overwrites deleted content with zeros (secure_delete):
	// for the catalog, whose deleted tenants' records must not linger in
	// free pages.
	SecureDelete bool
}

// DB is one SQLite file opened as a writer and a reader pool.
type DB struct {
	Path  string
	Write *sql.DB // one connection; BEGIN takes the write lock (IMMEDIATE)
	Read  *sql.DB // query_only connections

	writeStmts, readStmts stmtCache // see ExecTx, QueryRow

	opt         Options     // as Open filled it in, for the stream pool's DSN
	streams     streamPool  // see StreamConn
	readStreams streamPool  // see ReadStreamConn
	writers     writerQueue // see WriterWaiting
}

// DB is the tenant database the domain packages take.
var _ condo.DB = (*DB)(nil)

// Reader returns the reader pool, Read.
func (db *DB) Reader() *sql.DB { return db.Read }

// Writer returns the single-connection writer, Write.
func (db *DB) Writer() *sql.DB { return db.Write }

// Open opens the file at path. It does no I/O until the first query, so a
// missing or corrupt file surfaces there (see Ping).
func Open(path string, opt Options) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if opt.Readers <= 0 {
		opt.Readers = DefaultReaders
	}
	if opt.CacheKiB <= 0 {
		opt.CacheKiB = DefaultCacheKiB
	}
	if opt.BusyTimeout <= 0 {
		opt.BusyTimeout = DefaultBusyTimeout
	}
	write, err := sql.Open(driverName, dsn(abs, opt, false))
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(DefaultIdleTime)
	read, err := sql.Open(driverName, dsn(abs, opt, true))
	if err != nil {
		write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(opt.Readers)
	// Idle readers stay (until DefaultIdleTime) so concurrent requests to
	// one tenant do not open and parse the schema on every request.
	read.SetMaxIdleConns(min(opt.Readers, 2))
	read.SetConnMaxIdleTime(DefaultIdleTime)
	db := &DB{Path: abs, Write: write, Read: read, opt: opt}
	db.writeStmts.pool, db.readStmts.pool = write, read
	return db, nil
}

// dsn builds the connection string. Each pragma appears once: modernc
// applies _pragma values sorted by name (busy_timeout first), so a repeated
// pragma would not override the earlier one. Every pragma costs a little on
// each connection's open, so readers get only what a reader needs, and
// journal_mode (persistent in the file) is set only where a file may be
// new.
func dsn(abs string, opt Options, readOnly bool) string {
	q := url.Values{}
	mode := "rw"
	if opt.Create && !readOnly {
		mode = "rwc"
	}
	q.Set("mode", mode)
	if opt.Defensive {
		q.Set("_defensive", "1")
	}
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(int(opt.BusyTimeout/time.Millisecond))+")")
	if !opt.Job {
		kib := opt.CacheKiB
		if readOnly && opt.ReadCacheKiB > kib {
			kib = opt.ReadCacheKiB
		}
		q.Add("_pragma", "cache_size(-"+strconv.Itoa(kib)+")")
	}
	q.Add("_pragma", "journal_size_limit(1048576)") // the WAL persists (see init): keep what is left of it small
	if readOnly {
		q.Add("_pragma", "query_only(1)")
		return uri(abs, q)
	}
	sync := "NORMAL"
	if opt.FullSync {
		sync = "FULL"
	}
	q.Add("_pragma", "foreign_keys(1)")
	if opt.SecureDelete {
		q.Add("_pragma", "secure_delete(1)")
	}
	if opt.Create {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	q.Add("_pragma", "synchronous("+sync+")")
	if opt.Job {
		q.Set("_txlock", "immediate")
		return uri(abs, q)
	}
	// A checkpoint fsyncs the database file; every 4,000 pages (16 MiB of
	// WAL) rather than SQLite's 1,000 keeps bursts of writes from stalling
	// on it (about +25% items created per second, docs/PERFORMANCE.md).
	q.Add("_pragma", "wal_autocheckpoint(4000)")
	q.Set("_txlock", "immediate")
	return uri(abs, q)
}

func uri(abs string, q url.Values) string {
	return "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode()
}

// Ping opens a reader and runs a trivial query, so a missing or corrupt file
// fails here rather than in the first request.
func (db *DB) Ping(ctx context.Context) error {
	var n int
	return db.Read.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n)
}

// Checkpoint copies the WAL back into the database file and truncates it.
func (db *DB) Checkpoint(ctx context.Context) error {
	_, err := db.Write.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// Close closes the pools. SQLite checkpoints and removes the WAL when the
// last connection to the file in this process closes.
func (db *DB) Close() error {
	db.readStmts.close()
	db.writeStmts.close()
	serr := errors.Join(db.streams.close(), db.readStreams.close())
	rerr := db.Read.Close()
	werr := db.Write.Close()
	return errors.Join(werr, rerr, serr)
}

// Transact runs fn in a write transaction: it commits when fn returns nil,
// and rolls back on an error or a panic (re-panicking after the rollback).
// A transaction refused for lack of space returns EFULL (see Classify).
func (db *DB) Transact(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	waited := db.writers.wait()
	tx, err := db.Write.BeginTx(ctx, nil)
	waited()
	if err != nil {
		return Classify(err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
			err = Classify(err)
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err == nil {
		db.writeStmts.preparePending(context.WithoutCancel(ctx))
	}
	return err
}

// Classify returns err with a condo code where SQLite's result code says
// what went wrong for the caller rather than for the program: SQLITE_FULL
// (no room left in the file system for the database, its WAL or a
// journal) becomes EFULL. Every other error is returned as it is. Writes
// through Transact are classified already; callers that write through
// Write directly classify their own errors.
func Classify(err error) error {
	if IsFull(err) && condo.ErrorCode(err) != condo.EFULL {
		return condo.FullError(err)
	}
	if IsFenced(err) { // the tenant moved while this write waited (fence.go)
		return condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_moved", "the tenant moved to another node while this write waited; retry")
	}
	return err
}

// IsFull reports whether err is SQLite's SQLITE_FULL, by its result code
// (the primary code, so extended codes of it count too).
func IsFull(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL
}

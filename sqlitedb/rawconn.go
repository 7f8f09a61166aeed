package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"sync"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Raw is one connection's SQLite handle, for what database/sql cannot
// say: whether a transaction is open, which statement a text starts with,
// the declared types of its columns. It is valid only inside the fn given
// to WithRaw, which holds the connection alone; it is not safe for
// concurrent use.
type Raw struct {
	ctx context.Context
	db  uintptr   // sqlite3*
	tls *libc.TLS // the connection's own TLS: calls on the handle use it
	// scratch is C memory for prepare's two out-parameters (the statement
	// and the tail), allocated on first use and freed when fn returns.
	scratch uintptr
}

// WithRaw runs fn with c's SQLite handle. A ctx that ends while fn runs
// interrupts the statement in progress (SQLITE_INTERRUPT).
func WithRaw(ctx context.Context, c *sql.Conn, fn func(*Raw) error) error {
	return c.Raw(func(dc any) error {
		db, tls, err := rawHandle(dc)
		if err != nil {
			return err
		}
		r := &Raw{ctx: ctx, db: db, tls: tls}
		defer r.freeScratch()
		stop := interruptOnDone(ctx, db)
		defer stop()
		return fn(r)
	})
}

// rawHandle reads the sqlite3* handle and the libc TLS out of modernc's
// driver connection. modernc exports neither (there is no handle accessor
// in its API), and sqlite3_get_autocommit, sqlite3_txn_state and a prepare
// that reports where the first statement ends need both. So this reads
// the unexported fields `db uintptr` and `tls *libc.TLS` of its *conn with
// reflect. This is the one place that depends on modernc's internals;
// TestRawHandle fails loudly if an upgrade renames or retypes the fields.
func rawHandle(dc any) (db uintptr, tls *libc.TLS, err error) {
	v := reflect.ValueOf(dc)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return 0, nil, fmt.Errorf("sqlitedb: driver connection %T is not modernc's *sqlite.conn", dc)
	}
	s := v.Elem()
	if s.Type().PkgPath() != "modernc.org/sqlite" || s.Type().Name() != "conn" {
		return 0, nil, fmt.Errorf("sqlitedb: driver connection %T is not modernc's *sqlite.conn", dc)
	}
	fdb, ftls := s.FieldByName("db"), s.FieldByName("tls")
	if !fdb.IsValid() || fdb.Kind() != reflect.Uintptr {
		return 0, nil, fmt.Errorf("sqlitedb: modernc's conn has no field db uintptr (renamed by an upgrade?)")
	}
	if !ftls.IsValid() || ftls.Type() != reflect.TypeFor[*libc.TLS]() {
		return 0, nil, fmt.Errorf("sqlitedb: modernc's conn has no field tls *libc.TLS (renamed by an upgrade?)")
	}
	db, tls = uintptr(fdb.Uint()), (*libc.TLS)(ftls.UnsafePointer())
	if db == 0 || tls == nil {
		return 0, nil, fmt.Errorf("sqlitedb: connection is closed")
	}
	return db, tls, nil
}

// interruptOnDone calls sqlite3_interrupt on db once ctx ends, until the
// returned stop is called; after stop returns it never interrupts (the
// connection may serve someone else by then). The interrupt runs on its
// own TLS: a libc.TLS is not safe for concurrent use, and the statement it
// interrupts runs on the connection's.
func interruptOnDone(ctx context.Context, db uintptr) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	var mu sync.Mutex // guards done
	done := false
	stopAfter := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return
		}
		tls := libc.NewTLS()
		sqlite3.Xsqlite3_interrupt(tls, db)
		tls.Close()
	})
	return func() {
		stopAfter()
		mu.Lock()
		done = true
		mu.Unlock()
	}
}

// mainSchema is the C string "main", allocated once for sqlite3_txn_state.
var mainSchema = func() uintptr {
	p, err := libc.CString("main")
	if err != nil {
		panic(err)
	}
	return p
}()

// Autocommit reports whether no transaction is open (sqlite3_get_autocommit).
func (r *Raw) Autocommit() bool { return sqlite3.Xsqlite3_get_autocommit(r.tls, r.db) != 0 }

// Writing reports whether the connection holds the write lock of the main
// database: its transaction has written, or began IMMEDIATE or EXCLUSIVE.
func (r *Raw) Writing() bool {
	return sqlite3.Xsqlite3_txn_state(r.tls, r.db, mainSchema) == sqlite3.SQLITE_TXN_WRITE
}

// Changes is the number of rows the last INSERT, UPDATE or DELETE changed.
func (r *Raw) Changes() int64 { return sqlite3.Xsqlite3_changes64(r.tls, r.db) }

// TotalChanges is the number of rows changed by INSERT, UPDATE and DELETE
// since the connection opened, triggers included: a statement changed rows
// when it moves.
func (r *Raw) TotalChanges() int64 { return sqlite3.Xsqlite3_total_changes64(r.tls, r.db) }

// LastInsertRowid is the rowid of the last row inserted.
func (r *Raw) LastInsertRowid() int64 { return sqlite3.Xsqlite3_last_insert_rowid(r.tls, r.db) }

// TxnState reports whether c is in autocommit mode (no transaction open)
// and whether it holds the write lock.
func TxnState(ctx context.Context, c *sql.Conn) (autocommit, writing bool, err error) {
	err = WithRaw(ctx, c, func(r *Raw) error {
		autocommit, writing = r.Autocommit(), r.Writing()
		return nil
	})
	return autocommit, writing, err
}

package hrana

import (
	"context"
	"database/sql"
)

// SKELETON: conn.go is the hrana-exec helper's. The signatures below are
// the contract the streams layer (stream.go, http.go) builds on; the
// bodies come with the helper's branch.

// Conn is one stream's connection: one SQLite connection of the tenant's
// database, given to this stream alone, and the SQL texts stored on it.
type Conn struct {
	c     *sql.Conn
	guard *Guard
}

// NewConn wraps c, guarded by g (policy.go).
func NewConn(c *sql.Conn, g *Guard) *Conn { return &Conn{c: c, guard: g} }

// Do runs one request of a pipeline: execute, batch, sequence, describe,
// store_sql, close_sql and (version 3) get_autocommit; close is the
// stream's owner's. A request the protocol refuses (a missing field, an
// unknown type, a condition pointing forward, a v3 request on v2) returns
// a non-nil perr, which fails the whole pipeline with HTTP 400; anything
// else that fails (SQL, arguments, stored SQL) is the result's *Error.
func (c *Conn) Do(ctx context.Context, version int, req *StreamRequest) (resp any, err *Error, perr error) {
	panic("hrana: Conn.Do not built yet")
}

// Cursor runs b for POST /v3/cursor, handing emit each entry (step_begin,
// row, step_end, step_error, error) as it is produced.
func (c *Conn) Cursor(ctx context.Context, b *Batch, emit func(entry any) error) error {
	panic("hrana: Conn.Cursor not built yet")
}

// Autocommit reports whether no transaction is open on the connection.
func (c *Conn) Autocommit(ctx context.Context) (bool, error) {
	panic("hrana: Conn.Autocommit not built yet")
}

// Writing reports whether the connection holds the database's write lock
// (a write transaction is open).
func (c *Conn) Writing(ctx context.Context) (bool, error) {
	panic("hrana: Conn.Writing not built yet")
}

// Close rolls back an open transaction, forgets the stored SQL, releases
// the guard and returns the connection to its pool.
func (c *Conn) Close() error {
	panic("hrana: Conn.Close not built yet")
}

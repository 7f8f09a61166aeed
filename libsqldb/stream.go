package libsqldb

import (
	"context"
	"database/sql/driver"
	"errors"
	"time"
)

// libsql-client-go ends a connection's stream (its baton) whenever
// database/sql hands the connection out again (ResetSession), and closes
// it with a request of its own: every query on a reused connection then
// costs a new stream and a second round trip. A connection back in the
// pool holds no transaction and no statement (database/sql ends both
// first), so its stream is as good as new: keepStream keeps it. A stream
// the server dropped meanwhile (sqld and Condo drop a stream idle for 10
// s) answers STREAM_EXPIRED, which the driver reports as
// driver.ErrBadConn, and database/sql retries on a fresh connection;
// idleClose closes idle connections well before, so that is rare.
const idleClose = 5 * time.Second

// maxIdle bounds the idle streams one database keeps at the server (a
// Condo location allows a tenant 16 streams). Open ones are not bounded:
// a caller holding a transaction may query beside it, and a bound would
// let such callers wait on each other for ever.
const maxIdle = 8

// keepStream is a driver.Connector whose connections keep their stream
// between uses.
type keepStream struct{ driver.Connector }

func (k keepStream) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := k.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c}, nil
}

// conn is the driver's connection with a ResetSession of its own; every
// other interface of it is passed through.
type conn struct {
	driver.Conn
	// lost is set when a request ended with its context: the server may
	// have run it or not, so the stream's baton is in doubt, and the
	// connection is dropped rather than reused (ResetSession).
	lost bool
}

// ResetSession keeps the stream, unless a request of it was cut short.
func (c *conn) ResetSession(context.Context) error {
	if c.lost {
		return driver.ErrBadConn
	}
	return nil
}

// check notes an error that leaves the stream in doubt.
func (c *conn) check(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		c.lost = true
	}
	return err
}

var errNoInterface = errors.New("libsqldb: the driver's connection lacks this method")

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		tx, err := b.BeginTx(ctx, opts)
		return tx, c.check(ctx, err)
	}
	return nil, errNoInterface
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		res, err := e.ExecContext(ctx, query, args)
		return res, c.check(ctx, err)
	}
	return nil, driver.ErrSkip
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		rows, err := q.QueryContext(ctx, query, args)
		return rows, c.check(ctx, err)
	}
	return nil, driver.ErrSkip
}

// Ping implements driver.Pinger, which the driver's own PingContext does
// not (its signature differs): without it database/sql's Ping would not
// reach the server at all.
func (c *conn) Ping(ctx context.Context) error {
	switch p := c.Conn.(type) {
	case driver.Pinger:
		return c.check(ctx, p.Ping(ctx))
	case interface{ PingContext(context.Context) error }:
		return c.check(ctx, p.PingContext(ctx))
	}
	return nil
}

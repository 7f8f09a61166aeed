// Package libsqldb is a database reached over the libSQL remote protocol
// (Hrana over HTTP: Turso, sqld, or another Condo node's libSQL endpoint)
// through libsql-client-go's database/sql driver. It implements condo.DB,
// so the catalog and the domain packages run on it unchanged.
//
// Its URLs carry no secret: the auth token is passed apart and never
// formatted into an error. Redact is the one place that turns a URL the
// user gave into something a log line or an error may show.
package libsqldb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	"github.com/condohq/condo"
	"github.com/tursodatabase/libsql-client-go/libsql"
)

// DB is an open remote libSQL database. Reader and Writer are the same
// pool: the server, not this process, orders reads and writes.
type DB struct {
	db  *sql.DB
	url string // redacted, for errors
}

var _ condo.DB = (*DB)(nil)

// IsURL reports whether location names a remote database (libsql://,
// http:// or https://) rather than a local file.
func IsURL(location string) bool {
	for _, p := range []string{"libsql://", "http://", "https://"} {
		if strings.HasPrefix(strings.ToLower(location), p) {
			return true
		}
	}
	return false
}

// Validate checks that rawURL is a remote libSQL URL this package can
// open: a libsql, http or https scheme, a host, and no credentials or
// query in the URL itself (the token travels apart). Its errors are
// EINVALID and show the URL redacted.
func Validate(rawURL string) error {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil || !IsURL(rawURL) || u.Host == "":
		return condo.ReasonErrorf(condo.EINVALID, "invalid_location", "location %s is not a libsql://, http:// or https:// URL with a host", Redact(rawURL))
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return condo.ReasonErrorf(condo.EINVALID, "invalid_location", "location %s must not carry credentials or a query: pass the token apart", Redact(rawURL))
	}
	return nil
}

// Open returns a handle on the database at rawURL, authenticating with
// token (empty: none). It checks the URL, not the connection: Ping does.
func Open(rawURL, token string) (*DB, error) {
	if err := Validate(rawURL); err != nil {
		return nil, err
	}
	var opts []libsql.Option
	if token != "" {
		opts = append(opts, libsql.WithAuthToken(token))
	}
	c, err := libsql.NewConnector(rawURL, opts...)
	if err != nil {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_location", "location %s: %s", Redact(rawURL), RedactError(err, token))
	}
	db := sql.OpenDB(keepStream{c})
	db.SetMaxIdleConns(maxIdle)
	db.SetConnMaxIdleTime(idleClose)
	return &DB{db: db, url: Redact(rawURL)}, nil
}

// URL returns the database's URL, redacted.
func (d *DB) URL() string { return d.url }

// Reader implements condo.DB.
func (d *DB) Reader() *sql.DB { return d.db }

// Writer implements condo.DB.
func (d *DB) Writer() *sql.DB { return d.db }

// Transact implements condo.DB: fn runs in one transaction on one stream
// of the server, committed when fn returns nil.
func (d *DB) Transact(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// ExecTx implements condo.DB; nothing is kept prepared.
func (d *DB) ExecTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	return tx.ExecContext(ctx, query, args...)
}

// QueryRowTx implements condo.DB.
func (d *DB) QueryRowTx(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	return tx.QueryRowContext(ctx, query, args...)
}

// QueryRow implements condo.DB.
func (d *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return d.db.QueryRowContext(ctx, query, args...)
}

// ReadStmt implements condo.DB: a remote statement is not kept prepared
// (the protocol sends the SQL text, or a stored one per stream).
func (d *DB) ReadStmt(context.Context, string) *sql.Stmt { return nil }

// IsUnique implements condo.DB. The client gives only the server's
// message, so the message is what tells.
func (d *DB) IsUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// Ping checks that the server answers a query. It runs one: the
// client's connections do not implement driver.Pinger, so
// sql.DB.PingContext would answer without asking the server.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("libSQL database %s does not answer: %w", d.url, err)
	}
	return nil
}

// Close implements condo.DB.
func (d *DB) Close() error { return d.db.Close() }

// Redact returns rawURL without what may be secret in it: user
// information, the query (authToken=...) and the fragment. What cannot be
// parsed is shown as its scheme only.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		if i := strings.Index(rawURL, "://"); i > 0 && i < 10 {
			return rawURL[:i] + "://[redacted]"
		}
		return "[redacted]"
	}
	u.User, u.RawQuery, u.Fragment, u.RawFragment = nil, "", "", ""
	return u.String()
}

// RedactError returns err's text with every secret removed: each of
// secrets (tokens) wherever it appears, and each URL in it redacted.
func RedactError(err error, secrets ...string) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	fields := strings.Fields(s)
	for _, f := range fields {
		f = strings.Trim(f, `"'(),;:`) // Go's errors quote a URL and follow it with a colon
		if IsURL(f) {
			s = strings.ReplaceAll(s, f, Redact(f))
		}
	}
	return s
}

// ErrRedacted wraps err so that its text is RedactError's: for errors
// that travel on to logs.
func ErrRedacted(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return redacted{msg: RedactError(err, secrets...), err: err}
}

type redacted struct {
	msg string
	err error
}

func (r redacted) Error() string { return r.msg }

// Unwrap keeps errors.Is and errors.As working (context.Canceled,
// driver.ErrBadConn); only Error's text is what logs show.
func (r redacted) Unwrap() error { return r.err }

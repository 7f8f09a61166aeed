package condo

import (
	"context"
	"database/sql"
)

// DB is one tenant's database as the domain packages (cms, auth) use it: a
// pool of read-only connections, a writer, and write transactions, all in
// database/sql terms. sqlitedb implements it over a local file; a
// libSQL-backed tenant (libsql-client-go's database/sql driver) implements
// it the same way, so the domain packages work on either unchanged.
//
// Errors are the driver's, except where a method says otherwise.
type DB interface {
	// Reader returns the pool for queries that never write. Its queries do
	// not wait behind a write; a write through it fails.
	Reader() *sql.DB
	// Writer returns the pool for a single write statement outside a
	// transaction. A write refused for lack of space is the driver's
	// error, not yet EFULL: the caller classifies it.
	Writer() *sql.DB
	// Transact runs fn in a write transaction: it commits when fn returns
	// nil, and rolls back on an error or a panic (re-panicking after the
	// rollback). A transaction refused for lack of space returns EFULL.
	Transact(ctx context.Context, fn func(*sql.Tx) error) error
	// ExecTx and QueryRowTx run a statement in tx, a transaction of
	// Transact; QueryRow runs a query on the reader pool. An implementation
	// may keep them prepared (parsing costs more than running a small
	// statement); one that does not runs them on tx or Reader directly.
	ExecTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error)
	QueryRowTx(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
	// ReadStmt returns query kept prepared on the reader pool, for queries
	// that return rows; nil when the implementation keeps no more (or none,
	// or it fails to prepare), and the caller runs query on Reader.
	ReadStmt(ctx context.Context, query string) *sql.Stmt
	// IsUnique reports whether err, returned by this database, is a UNIQUE
	// or PRIMARY KEY constraint failing: the key exists already. Each
	// backend reports it its own way (a result code, a protocol field), so
	// the database that returned the error is the one to ask.
	IsUnique(err error) bool
	// Close closes the database. The owner of the handle (tenantstore's
	// pool) calls it, never a domain package.
	Close() error
}

package sqlitedb

import (
	"context"
	"database/sql"
	"sync"
)

// Parsing a statement costs more than running a small one (a tenant's
// schema has dozens of columns and indexes to resolve), so hot statements
// are prepared once per pool and kept until Close. database/sql prepares a
// kept statement again on each connection that first runs it, and reuses
// it on that connection afterwards.
//
// The writer pool has one connection, which a transaction holds: preparing
// on the pool inside one would wait for itself. So a write statement seen
// for the first time runs unprepared and is only noted; Transact prepares
// what was noted once its transaction has ended.
type stmtCache struct {
	mu      sync.Mutex
	pool    *sql.DB
	stmts   map[string]*sql.Stmt
	pending map[string]bool
}

// lookup returns a kept statement, or notes query to be prepared later.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stmts[query]; ok {
		return s
	}
	if c.pending == nil {
		c.pending = map[string]bool{}
	}
	c.pending[query] = true
	return nil
}

// preparePending prepares the noted statements; one that fails to prepare
// is dropped (it keeps running unprepared, reporting its own error).
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for q := range pending {
		c.get(ctx, q)
	}
}

// get returns the kept statement, preparing it first if need be. The lock
// is never held while preparing, which waits for a connection: a
// transaction holding the writer's only connection may itself be waiting
// for the lock.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	s, ok := c.stmts[query]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if kept, ok := c.stmts[query]; ok { // another caller won
		s.Close()
		return kept, nil
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = s
	return s, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.stmts {
		s.Close()
	}
	c.stmts = nil
}

// ExecTx runs a kept statement in tx (a transaction of db.Write).
func (db *DB) ExecTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if s := db.writeStmts.lookup(query); s != nil {
		return tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// QueryRowTx runs a kept query in tx (a transaction of db.Write).
func (db *DB) QueryRowTx(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if s := db.writeStmts.lookup(query); s != nil {
		return tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// QueryRow runs a kept query on the reader pool.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := db.readStmts.get(ctx, query)
	if err != nil {
		return db.Read.QueryRowContext(ctx, query, args...) // reports the same error
	}
	return s.QueryRowContext(ctx, args...)
}

// maxReadStmts bounds the read statements ReadStmt keeps: lists vary with
// the filters their callers choose, so their statements could otherwise
// grow without end.
const maxReadStmts = 256

// ReadStmt returns query kept prepared on the reader pool, for queries
// that return rows (run it as is, or in a read transaction through
// tx.StmtContext); nil once maxReadStmts are kept or if it fails to
// prepare, and the caller runs query unprepared.
func (db *DB) ReadStmt(ctx context.Context, query string) *sql.Stmt {
	c := &db.readStmts
	c.mu.Lock()
	s, ok := c.stmts[query]
	full := len(c.stmts) >= maxReadStmts
	c.mu.Unlock()
	if ok {
		return s
	}
	if full {
		return nil
	}
	s, err := c.get(ctx, query)
	if err != nil {
		return nil
	}
	return s
}

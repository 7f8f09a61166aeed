package hrana

import (
	"context"
	"database/sql"
)

// SKELETON: policy.go is the hrana-policy helper's. The signatures below
// are the contract conn.go and stream.go build on.

// Access is what a credential may do through the endpoint.
type Access int

const (
	// ReadOnly runs reads only (sql.read).
	ReadOnly Access = iota + 1
	// ReadWrite runs everything the tenant's own data needs (sql.write).
	ReadWrite
	// Unsafe lifts the protections (condo shell --unsafe only).
	Unsafe
)

// Guard is the policy installed on one connection (SQLite's authorizer
// and query_only), never decided by reading SQL text.
type Guard struct{}

// Protect installs the policy for a on c, which must be a connection
// given to one stream (or one shell) alone.
func Protect(ctx context.Context, c *sql.Conn, a Access) (*Guard, error) {
	panic("hrana: Protect not built yet")
}

// ReadOnlyTx makes the connection read-only while on (a transaction begun
// as BEGIN TRANSACTION READONLY), whatever its access.
func (g *Guard) ReadOnlyTx(on bool) { panic("hrana: Guard.ReadOnlyTx not built yet") }

// TakeWrote reports whether a statement compiled since the last call may
// have written a table, and resets it: the stream then drops the tenant's
// cached CMS reads.
func (g *Guard) TakeWrote() bool { panic("hrana: Guard.TakeWrote not built yet") }

// Release removes the policy from the connection before it goes back to
// its pool.
func (g *Guard) Release(ctx context.Context) error { panic("hrana: Guard.Release not built yet") }

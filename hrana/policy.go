package hrana

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync/atomic"

	"modernc.org/sqlite"

	"github.com/condohq/condo/sqlitedb"
)

// Access is what a credential may do through the endpoint.
type Access int

const (
	// ReadOnly runs reads only (sql.read).
	ReadOnly Access = iota + 1
	// ReadWrite runs everything the tenant's own data needs (sql.write).
	ReadWrite
	// Owner is ReadWrite over Condo's tables too (sql.owner): what another
	// Condo node needs whose tenant lives here (a remote location), since
	// that node migrates the schema, writes sessions, audit rows and
	// tokens, and checks password and token hashes. The protections of
	// the file itself stay: no ATTACH, VACUUM, extension or unsafe pragma.
	Owner
	// Unsafe lifts the protections (condo shell --unsafe only).
	Unsafe
	// Catalog is the control plane's own access (the primary node's
	// /_condo/catalog, for nodes holding the catalog token): every table
	// read and written, its schema migrated, but nothing outside the
	// file (ATTACH, DETACH, VACUUM, extensions).
	Catalog
)

// Guard is the policy installed on one connection (SQLite's authorizer
// and query_only), never decided by reading SQL text.
//
// What it allows, for ReadOnly and ReadWrite alike, is in tables.go:
// secrets are never read, Condo's bookkeeping is never written, Condo's
// tables keep their schema, and nothing reaches outside the tenant's file
// (ATTACH, VACUUM, extensions, pragmas that change durability or safety).
// ReadOnly refuses every write besides; SQLite's query_only backs it.
// A refused statement fails to compile with SQLITE_AUTH ("not
// authorized"), an ordinary SQL error for the client.
type Guard struct {
	c      *sql.Conn
	access Access

	readOnlyTx atomic.Bool // a BEGIN TRANSACTION READONLY is open
	wrote      atomic.Bool // a write compiled since TakeWrote
	temp       atomic.Bool // a temporary table or view was made: Release drops them
	fkOff      atomic.Bool // PRAGMA foreign_keys = OFF was compiled: Release turns them on

	queryOnlyConn bool // c is query_only by its pool (ProtectReader): Release leaves it so
}

// Protect installs the policy for a on c, which must be a connection
// given to one stream (or one shell) alone.
//
// c should come from a pool opened with sqlitedb.Options.Defensive: the
// authorizer lets FTS5 write its index's shadow tables, because SQLite
// presents those writes exactly like a client's, and defensive mode is
// what refuses a client's.
func Protect(ctx context.Context, c *sql.Conn, a Access) (*Guard, error) {
	g := &Guard{c: c, access: a}
	switch a {
	case Unsafe:
		return g, nil
	case ReadOnly:
		// Before the authorizer, which refuses this pragma.
		if _, err := c.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil {
			return nil, fmt.Errorf("protect connection: %w", err)
		}
	case ReadWrite, Owner:
	case Catalog:
		if err := sqlitedb.SetAuthorizer(ctx, c, g.authorizeCatalog); err != nil {
			return nil, fmt.Errorf("protect connection: %w", err)
		}
		return g, nil
	default:
		return nil, fmt.Errorf("protect connection: unknown access %d", a)
	}
	if err := sqlitedb.SetAuthorizer(ctx, c, g.authorize); err != nil {
		if a == ReadOnly {
			c.ExecContext(ctx, "PRAGMA query_only = 0")
		}
		return nil, fmt.Errorf("protect connection: %w", err)
	}
	return g, nil
}

// ProtectReader is Protect with ReadOnly for a connection that is
// query_only already and stays so, one of sqlitedb's ReadStreamConn:
// it installs the authorizer and no pragma, and its Release leaves
// query_only on.
func ProtectReader(ctx context.Context, c *sql.Conn) (*Guard, error) {
	g := &Guard{c: c, access: ReadOnly, queryOnlyConn: true}
	if err := sqlitedb.SetAuthorizer(ctx, c, g.authorize); err != nil {
		return nil, fmt.Errorf("protect connection: %w", err)
	}
	return g, nil
}

// ReadOnlyTx makes the connection read-only while on (a transaction begun
// as BEGIN TRANSACTION READONLY), whatever its access. It decides for
// statements compiled while it is on: switch it before running the
// transaction's statements.
func (g *Guard) ReadOnlyTx(on bool) { g.readOnlyTx.Store(on) }

// TakeWrote reports whether a statement compiled since the last call may
// have written a table, and resets it: the stream then drops the tenant's
// cached CMS reads.
func (g *Guard) TakeWrote() bool { return g.wrote.Swap(false) }

// Wrote is TakeWrote without the reset: the stream's reaper asks whether
// the request running now may hold the write lock.
func (g *Guard) Wrote() bool { return g.wrote.Load() }

// Release removes the policy from the connection before it goes back to
// its pool: the authorizer, query_only, and the temporary tables and views
// made under it (which would otherwise outlive the stream on the pooled
// connection). The caller has ended any transaction first.
func (g *Guard) Release(ctx context.Context) error {
	if g.access == Unsafe {
		return nil
	}
	if err := sqlitedb.SetAuthorizer(ctx, g.c, nil); err != nil {
		return fmt.Errorf("release connection: %w", err)
	}
	if g.access == ReadOnly && !g.queryOnlyConn {
		if _, err := g.c.ExecContext(ctx, "PRAGMA query_only = 0"); err != nil {
			return fmt.Errorf("release connection: %w", err)
		}
	}
	if g.temp.Swap(false) {
		if err := dropTemp(ctx, g.c); err != nil {
			return fmt.Errorf("release connection: %w", err)
		}
	}
	if g.fkOff.Swap(false) {
		if _, err := g.c.ExecContext(ctx, "PRAGMA foreign_keys = ON"); err != nil {
			return fmt.Errorf("release connection: %w", err)
		}
	}
	return nil
}

// Stateful reports whether the connection carries state of the client's
// that outlives a transaction (temporary tables or views, foreign keys
// turned off): a stream whose guard is stateful keeps its connection
// between requests.
func (g *Guard) Stateful() bool { return g.temp.Load() || g.fkOff.Load() }

// dropTemp drops every temporary table and view on c (their indexes and
// triggers go with them).
func dropTemp(ctx context.Context, c *sql.Conn) error {
	rows, err := c.QueryContext(ctx, "SELECT type, name FROM temp.sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite%'")
	if err != nil {
		return err
	}
	var drops []string
	for rows.Next() {
		var typ, name string
		if err := rows.Scan(&typ, &name); err != nil {
			rows.Close()
			return err
		}
		drops = append(drops, "DROP "+strings.ToUpper(typ)+` IF EXISTS temp."`+strings.ReplaceAll(name, `"`, `""`)+`"`)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, d := range drops {
		if _, err := c.ExecContext(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

const (
	allow  = sqlite.AuthorizerOK
	deny   = sqlite.AuthorizerDeny
	ignore = sqlite.AuthorizerIgnore // a column read as NULL
)

// authorize is the SQLite authorizer: arg1 and arg2 are the action's
// (table and column, index and table, pragma and value, ...), db the
// schema ("main", "temp", or "" where SQLite gives none) and trigger the
// innermost trigger or view the action comes from ("" for the client's
// own statement). Unknown actions are refused.
func (g *Guard) authorize(action sqlite.AuthorizerActionCode, arg1, arg2, db, trigger string) sqlite.AuthorizerReturnCode {
	owner := g.access == Owner // the table rules (tables.go) do not apply
	switch action {
	case sqlite.AuthSelect, sqlite.AuthRecursive, sqlite.AuthTransaction, sqlite.AuthSavepoint:
		return allow
	case sqlite.AuthRead:
		switch {
		case owner:
		case kindOf(arg1) == secretTable, g.access == ReadOnly && writerTables[strings.ToLower(arg1)]:
			return deny
		case secretColumn(arg1, arg2):
			return ignore
		}
		return allow
	case sqlite.AuthFunction:
		if strings.EqualFold(arg2, "load_extension") {
			return deny
		}
		return allow
	case sqlite.AuthPragma:
		if !pragmaAllowed(arg1, arg2) {
			return deny
		}
		if on, ok := fkValues[strings.ToLower(arg2)]; ok && !on && strings.EqualFold(arg1, "foreign_keys") {
			g.fkOff.Store(true)
		}
		return allow
	case sqlite.AuthInsert, sqlite.AuthUpdate, sqlite.AuthDelete:
		return g.write(db, trigger, owner || writable(arg1, db, trigger))
	case sqlite.AuthReindex:
		return g.write(db, trigger, true)
	case sqlite.AuthCreateTable, sqlite.AuthCreateView, sqlite.AuthDropTable, sqlite.AuthDropView, sqlite.AuthDropVTable:
		return g.write(db, trigger, owner || !condoOwned(arg1))
	case sqlite.AuthCreateVTable:
		return g.write(db, trigger, (owner || !condoOwned(arg1)) && vtableModules[strings.ToLower(arg2)])
	case sqlite.AuthCreateIndex, sqlite.AuthCreateTrigger, sqlite.AuthDropIndex, sqlite.AuthDropTrigger:
		return g.write(db, trigger, owner || !condoOwned(arg2)) // arg2 is the table
	case sqlite.AuthAlterTable:
		return g.write(db, trigger, owner || !condoOwned(arg2)) // arg1 is the schema
	case sqlite.AuthCreateTempTable, sqlite.AuthCreateTempView:
		return g.temporary(!condoOwned(arg1))
	case sqlite.AuthCreateTempIndex:
		return g.temporary(!condoOwned(arg2))
	case sqlite.AuthDropTempTable, sqlite.AuthDropTempView, sqlite.AuthDropTempIndex, sqlite.AuthDropTempTrigger:
		return g.temporary(true)
	}
	// ATTACH and DETACH (and VACUUM, which attaches), ANALYZE (its
	// statistics would change the plans of Condo's own queries), temporary
	// triggers (they could fire on Condo's tables, on this connection,
	// after it went back to the pool) and anything SQLite adds later.
	return deny
}

// authorizeCatalog is the authorizer of Catalog access: what a tenant may
// not touch (Condo's tables, their schema) is the catalog's whole point,
// so only what reaches past the file, or loads code, is refused.
func (g *Guard) authorizeCatalog(action sqlite.AuthorizerActionCode, arg1, arg2, db, trigger string) sqlite.AuthorizerReturnCode {
	switch action {
	case sqlite.AuthAttach, sqlite.AuthDetach:
		return deny
	case sqlite.AuthFunction:
		return verdict(!strings.EqualFold(arg2, "load_extension"))
	case sqlite.AuthSelect, sqlite.AuthRead, sqlite.AuthRecursive, sqlite.AuthTransaction, sqlite.AuthSavepoint, sqlite.AuthPragma:
		return allow
	}
	return g.write(db, trigger, true) // every other action changes the file: the reaper must know
}

// write decides a write the table rules allow (ok) or refuse: always
// refused on a read-only connection; recorded for TakeWrote when it is
// the client's own write to the database file.
func (g *Guard) write(db, trigger string, ok bool) sqlite.AuthorizerReturnCode {
	if !ok || g.readOnly() {
		return deny
	}
	if trigger == "" && !strings.EqualFold(db, "temp") {
		g.wrote.Store(true)
	}
	return allow
}

// temporary decides the making or dropping of a temporary object, which
// lives on this connection only.
func (g *Guard) temporary(ok bool) sqlite.AuthorizerReturnCode {
	if !ok || g.readOnly() {
		return deny
	}
	g.temp.Store(true)
	return allow
}

func (g *Guard) readOnly() bool { return g.access == ReadOnly || g.readOnlyTx.Load() }

func verdict(ok bool) sqlite.AuthorizerReturnCode {
	if ok {
		return allow
	}
	return deny
}

package sqlitedb

import (
	"context"
	"database/sql"

	"modernc.org/sqlite"
)

// SKELETON: authorizer.go is the hrana-policy helper's.

// SetAuthorizer installs fn as c's SQLite authorizer (nil removes it).
func SetAuthorizer(ctx context.Context, c *sql.Conn, fn sqlite.AuthorizerFn) error {
	panic("sqlitedb: SetAuthorizer not built yet")
}

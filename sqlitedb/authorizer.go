package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"

	"modernc.org/sqlite"
)

// SetAuthorizer installs fn as c's SQLite authorizer (nil removes it).
// SQLite asks fn about every table, column, pragma and function a
// statement uses while it compiles the statement, so a policy decides on
// what the statement does, never on its text. The authorizer stays on
// the physical connection until removed: remove it before c goes back to
// a pool that others share. Installing or removing one expires c's
// prepared statements, which SQLite compiles again under the new policy.
func SetAuthorizer(ctx context.Context, c *sql.Conn, fn sqlite.AuthorizerFn) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.Raw(func(dc any) error {
		r, ok := dc.(sqlite.AuthorizerRegisterer)
		if !ok {
			return fmt.Errorf("sqlitedb: %T has no authorizer", dc)
		}
		return r.RegisterAuthorizer(fn)
	})
}

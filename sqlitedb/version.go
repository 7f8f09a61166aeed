package sqlitedb

import (
	"context"
	"database/sql"
)

// Version reports the version of the SQLite library compiled into this
// binary, as sqlite_version() answers it. It opens no file: the
// connection is a private in-memory database that lives for this query.
func Version(ctx context.Context) (string, error) {
	// modernc's own "sqlite" registration, not driverName: that one's
	// connection hook is for Condo's WAL files.
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&v); err != nil {
		return "", err
	}
	return v, nil
}

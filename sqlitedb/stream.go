package sqlitedb

import (
	"context"
	"database/sql"
	"time"
)

// SKELETON: stream.go is the hrana-exec helper's; bodies come with it.

// StreamConn returns a read-write connection of the file for one libSQL
// stream (or one shell) alone, from a small pool opened on first use,
// separate from the writer and the readers. BEGIN on it is the client's
// own (deferred unless it says otherwise). The caller closes it.
func (db *DB) StreamConn(ctx context.Context) (*sql.Conn, error) {
	panic("sqlitedb: StreamConn not built yet")
}

// TxnState reports whether c is in autocommit mode (no transaction open)
// and whether it holds the write lock.
func TxnState(ctx context.Context, c *sql.Conn) (autocommit, writing bool, err error) {
	panic("sqlitedb: TxnState not built yet")
}

// WriterWaiting reports how long the longest-waiting Transact has waited
// to begin (0 when none waits): a stream holding the write lock gives it
// up when this grows.
func (db *DB) WriterWaiting() time.Duration {
	panic("sqlitedb: WriterWaiting not built yet")
}

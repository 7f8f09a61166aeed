package hrana

import (
	"context"
	"database/sql"
	"fmt"
	"syscall"

	"github.com/condohq/condo/plans"
)

// noPageCap is SQLite's largest max_page_count: no cap.
const noPageCap = 4294967294

// quota is the cap of c's streams: its Quota when Capped, else none
// (0).
func (c *Caller) quota() int64 {
	if !c.Capped {
		return 0
	}
	return max(c.Quota, 1)
}

// capPages sets the connection's max_page_count so that the database
// cannot grow past quota bytes minus the tenant's media (quota 0: no
// cap). SQLite never lowers the cap below the file's current size, so a
// tenant already past its quota (a downgrade) keeps what it has and
// cannot grow: a write that needs a new page fails with SQLITE_FULL,
// which the stream answers as QUOTA_EXCEEDED.
func capPages(ctx context.Context, c *sql.Conn, quota int64) error {
	pages := int64(noPageCap)
	if quota > 0 {
		u, err := plans.ReadUsage(ctx, c)
		if err != nil {
			return err
		}
		var pageSize int64
		if err := c.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
			return err
		}
		pages = max((quota-u.Media)/pageSize, 1)
	}
	_, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages))
	return err
}

// CodeQuotaExceeded is the statement error of a write through the
// endpoint that would take the database past its plan's storage quota.
const CodeQuotaExceeded = "QUOTA_EXCEEDED"

// quotaError turns SQLITE_FULL on a capped connection into
// QUOTA_EXCEEDED, unless the disk holding dir is what is full (then it
// stays SQLITE_FULL: the operator's problem, not the tenant's plan).
func quotaError(quota int64, dir string, e *Error) (*Error, bool) {
	if quota <= 0 || e == nil || e.Code != "SQLITE_FULL" || diskFull(dir) {
		return nil, false
	}
	return &Error{Code: CodeQuotaExceeded, Message: fmt.Sprintf(
		"this write does not fit in the tenant's storage quota of %s (%d bytes, database and media): nothing was saved; delete data or move to a larger plan",
		plans.FormatSize(quota), quota)}, true
}

// diskFull reports a file system with less than a MiB free for
// unprivileged writers.
func diskFull(dir string) bool {
	var st syscall.Statfs_t
	if dir == "" || syscall.Statfs(dir, &st) != nil {
		return false
	}
	return st.Bavail*uint64(st.Bsize) < 1<<20
}

package hrana

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/condohq/condo/plans"
	"github.com/condohq/condo/sqlitedb"
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

// quotaError turns SQLITE_FULL on a capped stream into QUOTA_EXCEEDED
// when the cap, not the disk, is what is full.
func quotaError(ctx context.Context, c *sql.Conn, quota int64, err error) (*Error, bool) {
	if quota <= 0 || !sqlitedb.IsFull(err) {
		return nil, false
	}
	var count, maxCount int64
	if c.QueryRowContext(ctx, "SELECT (SELECT page_count FROM pragma_page_count()), (SELECT max_page_count FROM pragma_max_page_count())").Scan(&count, &maxCount) != nil {
		return nil, false
	}
	if count < maxCount-1 {
		return nil, false // the disk is full, not the quota
	}
	return &Error{Code: CodeQuotaExceeded, Message: fmt.Sprintf(
		"this write does not fit in the tenant's storage quota of %s (%d bytes): nothing was saved; delete data or move to a larger plan",
		plans.FormatSize(quota), quota)}, true
}

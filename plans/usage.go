package plans

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/condohq/condo"
)

// Usage is what a tenant's storage quota counts: its database file
// (page_count * page_size: the pages SQLite holds, free ones included;
// the WAL is not counted, since a checkpoint folds it into those pages)
// and the bytes of its media files.
type Usage struct {
	Database int64 `json:"database"`
	Media    int64 `json:"media"`
}

// Total is Database + Media.
func (u Usage) Total() int64 { return u.Database + u.Media }

// Querier is what ReadUsage reads through: a pool, a connection or a
// transaction of the tenant's database.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ReadUsage measures a tenant database's storage usage.
func ReadUsage(ctx context.Context, q Querier) (Usage, error) {
	var u Usage
	err := q.QueryRowContext(ctx, `SELECT (SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()),
		(SELECT coalesce(sum(size), 0) FROM media)`).Scan(&u.Database, &u.Media)
	if err != nil {
		return u, fmt.Errorf("read storage usage: %w", err)
	}
	return u, nil
}

// QuotaExceeded is the error of a write refused by the storage quota:
// EQUOTA (quota_exceeded), naming the limit and the usage.
func QuotaExceeded(quota int64, u Usage, adding int64) error {
	return condo.ReasonErrorf(condo.EQUOTA, "quota_exceeded",
		"this change does not fit in the tenant's storage quota of %s (%d bytes): %s used (%d bytes: database %d, media %d)%s; nothing was saved: delete content or media, or move to a larger plan",
		FormatSize(quota), quota, FormatSize(u.Total()), u.Total(), u.Database, u.Media, asked(adding))
}

func asked(n int64) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(", %d more asked", n)
}

// LimitReached is the error of a create refused by a count limit of the
// plan: EFORBIDDEN (plan_limit_reached), naming the limit.
func LimitReached(what string, limit int64, plan string) error {
	return condo.ReasonErrorf(condo.EFORBIDDEN, "plan_limit_reached",
		"the %s plan allows %d %s, and the tenant has that many: delete some or move to a larger plan", plan, limit, what)
}

// FormatSize writes n bytes for people: 512 B, 1.5 MiB, 10 GiB.
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.4g %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// NotAllowed is the error of a feature the tenant's plan does not
// include: EFORBIDDEN (plan_feature_unavailable).
func NotAllowed(f Feature, plan string) error {
	return condo.ReasonErrorf(condo.EFORBIDDEN, "plan_feature_unavailable",
		"the %s plan does not include %s: move to a plan that does", plan, f)
}

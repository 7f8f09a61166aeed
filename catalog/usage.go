package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/condohq/condo"
)

// UsageDay is one tenant's usage on one UTC day (Day is YYYY-MM-DD). As
// an argument of AddUsage the counters are what to add and the gauges
// (BytesStored, Users, Items: nil when not gathered) replace the stored
// ones; as a result it is the row.
type UsageDay struct {
	TenantID   string  `json:"tenant_id"`
	Day        string  `json:"day"`
	Requests   int64   `json:"requests"`
	Errors4xx  int64   `json:"errors_4xx"`
	Errors5xx  int64   `json:"errors_5xx"`
	BytesIn    int64   `json:"bytes_in"`
	BytesOut   int64   `json:"bytes_out"`
	Statements int64   `json:"statements"` // libSQL statements
	Latency    []int64 `json:"-"`          // requests per latency bucket (package usage)
	// Gauges, the last value gathered; nil: none that day.
	BytesStored *int64     `json:"bytes_stored"`
	Users       *int64     `json:"users"`
	Items       *int64     `json:"items"`
	LastActive  *time.Time `json:"last_active"`
}

// DayFormat is how usage days are written.
const DayFormat = time.DateOnly

// AddUsage adds each of days to its (tenant, day) row, in one
// transaction: counters and latency buckets add up, gauges given replace
// the stored ones, last_active keeps the later time.
func (c *Catalog) AddUsage(ctx context.Context, days []UsageDay) error {
	if len(days) == 0 {
		return nil
	}
	return c.db.Transact(ctx, func(tx *sql.Tx) error {
		for i := range days {
			if err := addUsage(ctx, tx, &days[i]); err != nil {
				return fmt.Errorf("add usage of tenant %s on %s: %w", days[i].TenantID, days[i].Day, err)
			}
		}
		return nil
	})
}

func addUsage(ctx context.Context, tx *sql.Tx, d *UsageDay) error {
	// Buckets add element by element: read the row's, add in Go.
	var stored string
	err := tx.QueryRowContext(ctx, "SELECT latency FROM usage_daily WHERE tenant_id = ? AND day = ?", d.TenantID, d.Day).Scan(&stored)
	if err != nil && err != sql.ErrNoRows {
		return err
	}
	latency := addBuckets(parseBuckets(stored), d.Latency)
	lat, _ := json.Marshal(latency)
	_, err = tx.ExecContext(ctx, `INSERT INTO usage_daily (tenant_id, day, requests, errors_4xx, errors_5xx, bytes_in, bytes_out,
		statements, latency, bytes_stored, users, items, last_active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, day) DO UPDATE SET
		requests = requests + excluded.requests, errors_4xx = errors_4xx + excluded.errors_4xx,
		errors_5xx = errors_5xx + excluded.errors_5xx, bytes_in = bytes_in + excluded.bytes_in,
		bytes_out = bytes_out + excluded.bytes_out, statements = statements + excluded.statements,
		latency = excluded.latency,
		bytes_stored = coalesce(excluded.bytes_stored, bytes_stored), users = coalesce(excluded.users, users),
		items = coalesce(excluded.items, items),
		last_active = max(coalesce(last_active, 0), coalesce(excluded.last_active, 0))`,
		d.TenantID, d.Day, d.Requests, d.Errors4xx, d.Errors5xx, d.BytesIn, d.BytesOut, d.Statements, string(lat),
		d.BytesStored, d.Users, d.Items, condo.NullUnixMS(d.LastActive))
	return err
}

func parseBuckets(s string) []int64 {
	var b []int64
	json.Unmarshal([]byte(s), &b) // a malformed value counts as none
	return b
}

// addBuckets adds b to a element by element, growing a as needed.
func addBuckets(a, b []int64) []int64 {
	for len(a) < len(b) {
		a = append(a, 0)
	}
	for i, v := range b {
		a[i] += v
	}
	return a
}

// Usage returns tenant id's usage rows from day from to day to (both
// included, YYYY-MM-DD), oldest first.
func (c *Catalog) Usage(ctx context.Context, id, from, to string) ([]UsageDay, error) {
	rows, err := c.db.Reader().QueryContext(ctx, `SELECT `+usageColumns+` FROM usage_daily
		WHERE tenant_id = ? AND day >= ? AND day <= ? ORDER BY day`, id, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UsageDay
	for rows.Next() {
		d, err := scanUsage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// usageColumns are what scanUsage reads, in its order.
const usageColumns = `tenant_id, day, requests, errors_4xx, errors_5xx, bytes_in, bytes_out,
	statements, latency, bytes_stored, users, items, last_active`

func scanUsage(rows *sql.Rows) (*UsageDay, error) {
	var d UsageDay
	var lat string
	var last *int64
	if err := rows.Scan(&d.TenantID, &d.Day, &d.Requests, &d.Errors4xx, &d.Errors5xx, &d.BytesIn, &d.BytesOut,
		&d.Statements, &lat, &d.BytesStored, &d.Users, &d.Items, &last); err != nil {
		return nil, err
	}
	d.Latency, d.LastActive = parseBuckets(lat), condo.FromNullUnixMS(last)
	return &d, nil
}

// ActiveTenants counts the tenants with usage recorded on day.
func (c *Catalog) ActiveTenants(ctx context.Context, day string) (int, error) {
	var n int
	err := c.db.Reader().QueryRowContext(ctx, "SELECT count(*) FROM usage_daily WHERE day = ? AND requests > 0", day).Scan(&n)
	return n, err
}

// FleetDay is the usage of every tenant on one day, summed.
type FleetDay struct {
	Day        string `json:"day"`
	Tenants    int    `json:"tenants"` // with requests that day
	Requests   int64  `json:"requests"`
	Errors4xx  int64  `json:"errors_4xx"`
	Errors5xx  int64  `json:"errors_5xx"`
	BytesIn    int64  `json:"bytes_in"`
	BytesOut   int64  `json:"bytes_out"`
	Statements int64  `json:"statements"`
	// BytesStored sums the storage gathered that day (nil: none was).
	BytesStored *int64 `json:"bytes_stored"`
}

// FleetUsage sums every tenant's usage per day from from to to (both
// included), oldest first; days without usage are left out.
func (c *Catalog) FleetUsage(ctx context.Context, from, to string) ([]FleetDay, error) {
	rows, err := c.db.Reader().QueryContext(ctx, `SELECT day, count(CASE WHEN requests > 0 THEN 1 END), sum(requests), sum(errors_4xx),
		sum(errors_5xx), sum(bytes_in), sum(bytes_out), sum(statements), sum(bytes_stored) FROM usage_daily WHERE day >= ? AND day <= ? GROUP BY day ORDER BY day`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FleetDay
	for rows.Next() {
		var d FleetDay
		if err := rows.Scan(&d.Day, &d.Tenants, &d.Requests, &d.Errors4xx, &d.Errors5xx, &d.BytesIn, &d.BytesOut, &d.Statements, &d.BytesStored); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// UsageLatest is a tenant's latest gauges: when it was last active and
// the storage last gathered.
type UsageLatest struct {
	LastActive  *time.Time `json:"last_active"`
	BytesStored *int64     `json:"bytes_stored"`
}

// LatestUsage reads the latest gauges of each of ids (at most 1000) in
// one query; a tenant without usage rows is left out.
func (c *Catalog) LatestUsage(ctx context.Context, ids []string) (map[string]UsageLatest, error) {
	out := make(map[string]UsageLatest, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	if len(ids) > 1000 {
		return nil, condo.Errorf(condo.EINVALID, "at most 1000 tenants at once")
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := c.db.Reader().QueryContext(ctx, `SELECT tenant_id, max(last_active),
		(SELECT b.bytes_stored FROM usage_daily b WHERE b.tenant_id = u.tenant_id AND b.bytes_stored IS NOT NULL ORDER BY b.day DESC LIMIT 1)
		FROM usage_daily u WHERE tenant_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) GROUP BY tenant_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var last *int64
		var u UsageLatest
		if err := rows.Scan(&id, &last, &u.BytesStored); err != nil {
			return nil, err
		}
		u.LastActive = condo.FromNullUnixMS(last)
		out[id] = u
	}
	return out, rows.Err()
}

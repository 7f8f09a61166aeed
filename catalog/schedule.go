package catalog

import (
	"context"
	"time"

	"github.com/condohq/condo"
)

// SetContentDue records when a tenant next has scheduled content work (a
// publish, an unpublish, a trash purge); nil clears it. The scheduler
// opens only tenants that are due.
func (c *Catalog) SetContentDue(ctx context.Context, tenantID string, due *time.Time) error {
	if due == nil {
		_, err := c.db.Writer().ExecContext(ctx, "DELETE FROM content_schedule WHERE tenant_id = ?", tenantID)
		return err
	}
	_, err := c.db.Writer().ExecContext(ctx, `INSERT INTO content_schedule (tenant_id, due_at) VALUES (?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET due_at = excluded.due_at`, tenantID, condo.UnixMS(*due))
	return err
}

// Due is a tenant whose scheduled content work is due, and since when.
type Due struct {
	TenantID string
	At       time.Time
}

// DueTenants lists up to limit active tenants whose scheduled content work
// is due at now, earliest first: of this node's region (Config.Region)
// and those without one, since with one control plane for all regions a
// node's scheduler must leave other regions' tenants to their home nodes
// (it could not open their databases). A node without a region takes all.
func (c *Catalog) DueTenants(ctx context.Context, now time.Time, limit int) ([]Due, error) {
	rows, err := c.db.Reader().QueryContext(ctx, `SELECT s.tenant_id, s.due_at FROM content_schedule s JOIN tenants t ON t.id = s.tenant_id
		WHERE s.due_at <= ? AND t.status = 'active' AND (? = '' OR t.region IN ('', ?)) ORDER BY s.due_at LIMIT ?`,
		condo.UnixMS(now), c.cfg.Region, c.cfg.Region, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Due
	for rows.Next() {
		var d Due
		var at int64
		if err := rows.Scan(&d.TenantID, &at); err != nil {
			return nil, err
		}
		d.At = condo.FromUnixMS(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// RescheduleContent moves a tenant's due time from was (what the scheduler
// picked) to next (nil clears it), unless a write changed it meanwhile:
// then the write's value stands, so a scheduled publish is never lost.
func (c *Catalog) RescheduleContent(ctx context.Context, tenantID string, was time.Time, next *time.Time) error {
	var err error
	if next == nil {
		_, err = c.db.Writer().ExecContext(ctx, "DELETE FROM content_schedule WHERE tenant_id = ? AND due_at = ?", tenantID, condo.UnixMS(was))
	} else {
		_, err = c.db.Writer().ExecContext(ctx, "UPDATE content_schedule SET due_at = ? WHERE tenant_id = ? AND due_at = ?", condo.UnixMS(*next), tenantID, condo.UnixMS(was))
	}
	return err
}

package catalog

import (
	"context"
	"time"
)

// SetContentDue records when a tenant next has scheduled content work (a
// publish, an unpublish, a trash purge); nil clears it. The scheduler
// opens only tenants that are due.
func (c *Catalog) SetContentDue(ctx context.Context, tenantID string, due *time.Time) error {
	if due == nil {
		_, err := c.db.Write.ExecContext(ctx, "DELETE FROM content_schedule WHERE tenant_id = ?", tenantID)
		return err
	}
	_, err := c.db.Write.ExecContext(ctx, `INSERT INTO content_schedule (tenant_id, due_at) VALUES (?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET due_at = excluded.due_at`, tenantID, ms(*due))
	return err
}

// DueTenants lists up to limit active tenants whose scheduled content work
// is due at now, earliest first.
func (c *Catalog) DueTenants(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := c.db.Read.QueryContext(ctx, `SELECT s.tenant_id FROM content_schedule s JOIN tenants t ON t.id = s.tenant_id
		WHERE s.due_at <= ? AND t.status = 'active' ORDER BY s.due_at LIMIT ?`, ms(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

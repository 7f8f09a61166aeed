package catalog

import (
	"context"
	"database/sql"
	"fmt"
)

// Bits of tenants.limits_custom (catalog migration 000013).
const (
	customQuota = 1 // storage_quota set for the tenant
	customUsers = 2 // user_limit set for the tenant
)

// MetaLimitsBackfilled marks a catalog whose tenants from before
// migration 000013 have had their custom limits told apart.
const MetaLimitsBackfilled = "limits_custom_backfilled"

// scanTenant reads a tenant row and gives it its plan's limits where it
// has none of its own, so a change to the plans file reaches every
// tenant of the plan at its next resolution.
func (c *Catalog) scanTenant(row interface{ Scan(...any) error }) (*Tenant, error) {
	t, err := scanTenantRow(row)
	if err != nil {
		return nil, err
	}
	c.planLimits(t)
	return t, nil
}

func (c *Catalog) planLimits(t *Tenant) {
	p, known := c.cfg.Plans.Lookup(t.Plan)
	if t.custom&customQuota != 0 || !known {
		t.CustomLimits = append(t.CustomLimits, "storage_quota")
	} else {
		t.StorageQuota = p.StorageQuota
	}
	if t.custom&customUsers != 0 || !known {
		t.CustomLimits = append(t.CustomLimits, "user_limit")
	} else {
		t.UserLimit = p.UserLimit
	}
}

// backfillCustomLimits marks, once per catalog, the limits of tenants from
// before migration 000013 that differ from their plan's: an operator set
// them. A tenant on a plan this node does not know keeps both. Many nodes
// may run it at once: the meta key, claimed in the same transaction,
// makes one of them do it.
func (c *Catalog) backfillCustomLimits(ctx context.Context) error {
	return c.db.Transact(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO NOTHING", MetaLimitsBackfilled)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // done before
		}
		if _, err := tx.ExecContext(ctx, "UPDATE tenants SET limits_custom = 3"); err != nil {
			return err
		}
		for _, name := range c.cfg.Plans.Names() {
			p, _ := c.cfg.Plans.Lookup(name)
			_, err := tx.ExecContext(ctx, `UPDATE tenants SET limits_custom =
				(CASE WHEN storage_quota <> ? THEN 1 ELSE 0 END) | (CASE WHEN user_limit <> ? THEN 2 ELSE 0 END)
				WHERE plan = ?`, p.StorageQuota, p.UserLimit, name)
			if err != nil {
				return fmt.Errorf("mark custom limits of plan %s: %w", name, err)
			}
		}
		return nil
	})
}

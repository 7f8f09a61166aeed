package catalog

import (
	"context"
	"database/sql"
	"fmt"
)

// SchemaRecord is one tenant's outcome in a fleet run: its schema state
// (nil: nothing to write for the tenant) and what it adds to the run's
// counts.
type SchemaRecord struct {
	TenantID string
	State    *SchemaState
	Count    RunCount
}

// RecordSchemas is RecordSchema for many tenants in one transaction: every
// state, and the sum of their counts added to run runID (none when empty),
// commit or roll back together, so the run's counts agree with its
// tenants' rows whichever happens. Fleet runs batch their tenants'
// outcomes through it: one catalog write per batch instead of one per
// tenant.
//
// Errors: ENOTFOUND (tenant_not_found, run_not_found) when one of them is
// gone; then nothing is written.
func (c *Catalog) RecordSchemas(ctx context.Context, runID string, recs []SchemaRecord) error {
	purge := false
	err := c.db.Transact(ctx, func(tx *sql.Tx) error {
		var sum RunCount
		for _, r := range recs {
			if r.State != nil {
				if err := setSchemaState(ctx, tx, r.TenantID, *r.State); err != nil {
					return err
				}
				purge = true
			}
			sum.Migrated += r.Count.Migrated
			sum.Skipped += r.Count.Skipped
			sum.Failed += r.Count.Failed
			sum.Failures = append(sum.Failures, r.Count.Failures...)
		}
		if runID == "" || sum.IsZero() {
			return nil
		}
		return countRun(ctx, tx, runID, sum)
	})
	if err == nil && purge {
		c.cache.Purge() // once per batch, not per tenant
	}
	return err
}

// SetSchemaPendings is SetSchemaPending for many tenants in one
// transaction: a fleet run marks the next tenants it will start together.
// A mark left on a tenant the run never started only makes the next run
// look at its file.
func (c *Catalog) SetSchemaPendings(ctx context.Context, ids []string, v uint) error {
	return c.db.Transact(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, "UPDATE tenants SET schema_pending = ? WHERE id = ?")
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, id := range ids {
			if _, err := stmt.ExecContext(ctx, v, id); err != nil {
				return fmt.Errorf("mark %s pending: %w", id, err)
			}
		}
		return nil
	})
}

package catalog

import (
	"context"
	"database/sql"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/webhooks"
)

// PlatformWebhooks is the platform's webhook endpoints, kept in the
// catalog.
func (c *Catalog) PlatformWebhooks(allowPrivate bool) webhooks.Endpoints {
	return webhooks.Endpoints{DB: c.db, Scope: webhooks.Platform, AllowPrivate: allowPrivate}
}

// WebhookDB is the catalog's database, where the delivery worker reads
// and records the platform's deliveries.
func (c *Catalog) WebhookDB() condo.DB { return c.db }

// EmitPlatformEvent records a platform webhook event (webhooks.UsageDaily,
// webhooks.TenantQuotaExceeded, ...) in a transaction of its own and wakes
// the delivery worker. A change of the catalog emits its event in its own
// transaction instead (see Catalog.emitPlatform).
func (c *Catalog) EmitPlatformEvent(ctx context.Context, event string, data any) error {
	err := c.db.Transact(ctx, func(tx *sql.Tx) error { return c.emitPlatform(ctx, tx, event, data) })
	if err == nil {
		webhooks.Wake(webhooks.PlatformKey)
	}
	return err
}

// emitPlatform records a platform event in tx; the caller wakes the
// worker (webhooks.Wake(webhooks.PlatformKey)) after the commit.
func (c *Catalog) emitPlatform(ctx context.Context, tx *sql.Tx, event string, data any) error {
	_, err := webhooks.Emit(ctx, c.db, tx, webhooks.Platform, event, data)
	return err
}

// tenantEvents emits what a change of a tenant's row means for the
// platform's webhooks: suspended, archived, plan changed.
func (c *Catalog) tenantEvents(ctx context.Context, tx *sql.Tx, before, after *Tenant) error {
	if before.Status != after.Status {
		switch after.Status {
		case StatusSuspended:
			if err := c.emitPlatform(ctx, tx, webhooks.TenantSuspended, after); err != nil {
				return err
			}
		case StatusArchived:
			if err := c.emitPlatform(ctx, tx, webhooks.TenantArchived, after); err != nil {
				return err
			}
		}
	}
	if before.Plan != after.Plan {
		return c.emitPlatform(ctx, tx, webhooks.TenantPlanChanged, map[string]any{"tenant": after, "from_plan": before.Plan})
	}
	return nil
}

// WebhookTenants lists the tenants that have webhook endpoints: where the
// delivery worker looks for pending deliveries when it starts.
func (c *Catalog) WebhookTenants(ctx context.Context) ([]string, error) {
	rows, err := c.db.Reader().QueryContext(ctx, "SELECT tenant_id FROM webhook_tenants")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// NoteWebhookEvents records that this process wrote webhook events into
// tenant id's outbox (nothing when it has no endpoints): the server's
// worker, in another process, finds it through WebhookTenantsWritten.
func (c *Catalog) NoteWebhookEvents(ctx context.Context, id string) error {
	_, err := c.db.Writer().ExecContext(ctx, "UPDATE webhook_tenants SET written_at = ? WHERE tenant_id = ?", condo.UnixMS(time.Now()), id)
	return err
}

// WebhookTenantsWritten lists the tenants whose outbox another process
// noted writing to at or after since.
func (c *Catalog) WebhookTenantsWritten(ctx context.Context, since time.Time) ([]string, error) {
	rows, err := c.db.Reader().QueryContext(ctx, "SELECT tenant_id FROM webhook_tenants WHERE written_at >= ?", condo.UnixMS(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// SetWebhookTenant records whether tenant id has webhook endpoints.
func (c *Catalog) SetWebhookTenant(ctx context.Context, id string, has bool) error {
	q := "INSERT INTO webhook_tenants (tenant_id) VALUES (?) ON CONFLICT DO NOTHING"
	if !has {
		q = "DELETE FROM webhook_tenants WHERE tenant_id = ?"
	}
	_, err := c.db.Writer().ExecContext(ctx, q, id)
	return err
}

// tenantDeletedEvent is the data of webhooks.TenantDeleted.
func tenantDeletedEvent(id string) map[string]any {
	return map[string]any{"id": id, "deleted_at": time.Now().UTC()}
}

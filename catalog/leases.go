package catalog

import (
	"context"
	"time"

	"github.com/condohq/condo"
)

// A migration lease is the right to migrate one tenant at a remote
// location. A local file has SQLite's write lock to order the migrations
// of every process on the node; a remote database is shared by every node
// of the fleet and its server gives no lock that outlives one stream, so
// the catalog, which all nodes share, arbitrates: one conditional upsert
// takes the lease when it is free, expired or the holder's own, so two
// nodes never both hold it. A holder that dies loses it at expiry.

// TakeMigrationLease takes (or extends) tenant id's migration lease for
// holder until ttl from now, and reports whether holder has it; false
// means another holder's unexpired lease stands.
func (c *Catalog) TakeMigrationLease(ctx context.Context, id, holder string, ttl time.Duration) (bool, error) {
	if err := condo.ValidateTenantID(id); err != nil {
		return false, err
	}
	now := c.now()
	res, err := c.db.Writer().ExecContext(ctx, `INSERT INTO migration_leases (tenant_id, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (tenant_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE migration_leases.expires_at <= ? OR migration_leases.holder = excluded.holder`,
		id, holder, condo.UnixMS(now.Add(ttl)), condo.UnixMS(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseMigrationLease gives up holder's lease on tenant id, if it holds
// one.
func (c *Catalog) ReleaseMigrationLease(ctx context.Context, id, holder string) error {
	_, err := c.db.Writer().ExecContext(ctx, "DELETE FROM migration_leases WHERE tenant_id = ? AND holder = ?", id, holder)
	return err
}

package catalog

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/webhooks"
)

// Tombstone states.
const (
	TombstoneDeleting = "deleting"
	TombstoneDeleted  = "deleted"
)

// Tombstone records a tenant's deletion: who, when, why, and nothing of
// its data.
type Tombstone struct {
	ID        string     `json:"id"`
	State     string     `json:"state"`
	DeletedBy string     `json:"deleted_by"`
	Reason    string     `json:"reason,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
}

// BeginDelete starts deleting tenant id: it is suspended (its hosts
// answer 403 at once on this node, within CacheTTL on others) and a
// tombstone in state deleting records who asked and why. Calling it again
// for a delete under way is harmless and returns the same tombstone, so
// an interrupted delete is finished by running it again.
//
// Errors: ENOTFOUND when there is no such tenant (EGONE tenant_deleted
// when it was deleted already).
func (c *Catalog) BeginDelete(ctx context.Context, id, reason string) (*Tombstone, error) {
	if err := condo.ValidateTenantID(id); err != nil {
		return nil, err
	}
	err := c.db.Transact(ctx, func(tx *sql.Tx) error {
		before, err := c.tenantTx(ctx, tx, id)
		if condo.ErrorCode(err) == condo.ENOTFOUND {
			if ts, terr := tombstoneTx(ctx, tx, id); terr == nil && ts.State == TombstoneDeleted {
				return deletedError(ts)
			}
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_tombstones (id, state, deleted_by, reason, started_at)
			VALUES (?, 'deleting', ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			id, condo.ClipTo(ActorOf(ctx), condo.MaxStoredText), condo.ClipTo(reason, condo.MaxStoredText), condo.UnixMS(time.Now())); err != nil {
			return err
		}
		if before.Status == StatusSuspended {
			return nil
		}
		if _, err := tx.ExecContext(ctx, "UPDATE tenants SET status = 'suspended', updated_at = ? WHERE id = ?", condo.UnixMS(time.Now()), id); err != nil {
			return err
		}
		return audit(ctx, tx, "tenant.delete_begin", id, "", nil, map[string]string{"reason": reason})
	})
	if err != nil {
		return nil, err
	}
	c.cache.Purge()
	return c.Tombstone(ctx, id)
}

// FinishDelete removes what the catalog holds of tenant id, whose files
// the caller has removed: its row (with its domains, invitations and
// schedule), its mail in the outbox, its security events, and the before
// and after of its audit entries (the entries stay: who did what, when).
// The tombstone moves to deleted. Deleted rows are overwritten on disk
// (secure_delete) and the write-ahead log is truncated after.
//
// Errors: ECONFLICT when no delete of id has begun.
func (c *Catalog) FinishDelete(ctx context.Context, id string) (*Tombstone, error) {
	if err := condo.ValidateTenantID(id); err != nil {
		return nil, err
	}
	err := c.db.Transact(ctx, func(tx *sql.Tx) error {
		ts, err := tombstoneTx(ctx, tx, id)
		if err != nil {
			return condo.ReasonErrorf(condo.ECONFLICT, "delete_not_begun", "no delete of tenant %s has begun", id)
		}
		if ts.State == TombstoneDeleted {
			return nil
		}
		for _, q := range []string{
			"DELETE FROM tenants WHERE id = ?", // cascades: domains, invitations, schedule
			"DELETE FROM outbox WHERE tenant_id = ?",
			"DELETE FROM security_events WHERE tenant_id = ?",
			"UPDATE platform_audit SET before = NULL, after = NULL WHERE tenant_id = ?",
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE tenant_tombstones SET state = 'deleted', deleted_at = ? WHERE id = ?", condo.UnixMS(time.Now()), id); err != nil {
			return err
		}
		if err := c.emitPlatform(ctx, tx, webhooks.TenantDeleted, tenantDeletedEvent(id)); err != nil {
			return err
		}
		return audit(ctx, tx, "tenant.delete", id, "", nil, nil)
	})
	if err != nil {
		return nil, err
	}
	webhooks.Wake(webhooks.PlatformKey)
	c.cache.Purge()
	// The old pages of what was deleted sit in the WAL until a checkpoint
	// copies them over: truncate it now. Only a local file has one.
	if _, ok := c.db.(interface{ Checkpoint(context.Context) error }); ok {
		c.db.Writer().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	}
	return c.Tombstone(ctx, id)
}

// Tombstone returns the tombstone of tenant id, ENOTFOUND if it has none.
func (c *Catalog) Tombstone(ctx context.Context, id string) (*Tombstone, error) {
	return tombstoneQuery(c.db.Reader().QueryRowContext(ctx, selectTombstone, id), id)
}

// Tombstones lists the tombstones in state (or all), newest first.
func (c *Catalog) Tombstones(ctx context.Context, state string) ([]Tombstone, error) {
	rows, err := c.db.Reader().QueryContext(ctx, `SELECT id, state, deleted_by, reason, started_at, deleted_at
		FROM tenant_tombstones WHERE ?1 = '' OR state = ?1 ORDER BY started_at DESC`, state)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Tombstone
	for rows.Next() {
		ts, err := scanTombstone(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *ts)
	}
	return out, rows.Err()
}

// Purge removes the tombstone of a deleted tenant, so that its id can
// name a new tenant.
//
// Errors: ENOTFOUND without a tombstone, ECONFLICT while the delete is
// still under way.
func (c *Catalog) Purge(ctx context.Context, id string) error {
	if err := condo.ValidateTenantID(id); err != nil {
		return err
	}
	err := c.db.Transact(ctx, func(tx *sql.Tx) error {
		ts, err := tombstoneTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if ts.State != TombstoneDeleted {
			return condo.ReasonErrorf(condo.ECONFLICT, "delete_in_progress", "the delete of tenant %s has not finished: run it again first", id)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM tenant_tombstones WHERE id = ?", id); err != nil {
			return err
		}
		return audit(ctx, tx, "tenant.purge", id, "", nil, nil)
	})
	if err == nil {
		c.cache.Purge() // its host no longer answers tenant_deleted
	}
	return err
}

const selectTombstone = "SELECT id, state, deleted_by, reason, started_at, deleted_at FROM tenant_tombstones WHERE id = ?"

func tombstoneTx(ctx context.Context, tx *sql.Tx, id string) (*Tombstone, error) {
	return tombstoneQuery(tx.QueryRowContext(ctx, selectTombstone, id), id)
}

func tombstoneQuery(row *sql.Row, id string) (*Tombstone, error) {
	ts, err := scanTombstone(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, condo.ReasonErrorf(condo.ENOTFOUND, "tombstone_not_found", "tenant %s has no tombstone: it was not deleted", id)
	}
	return ts, err
}

func scanTombstone(row interface{ Scan(...any) error }) (*Tombstone, error) {
	var ts Tombstone
	var started int64
	var deleted sql.NullInt64
	if err := row.Scan(&ts.ID, &ts.State, &ts.DeletedBy, &ts.Reason, &started, &deleted); err != nil {
		return nil, err
	}
	ts.StartedAt = condo.FromUnixMS(started)
	if deleted.Valid {
		at := condo.FromUnixMS(deleted.Int64)
		ts.DeletedAt = &at
	}
	return &ts, nil
}

// deletedError is what a deleted tenant's id answers: 410 tenant_deleted.
func deletedError(ts *Tombstone) error {
	return condo.ReasonErrorf(condo.EGONE, "tenant_deleted", "tenant %s was deleted on %s; `condo tenants purge %s` frees its id",
		ts.ID, ts.DeletedAt.UTC().Format(time.DateOnly), ts.ID)
}

package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/backup"
	"github.com/condohq/condo/catalog"
)

// platformBackupRoutes registers the continuous backup routes: a
// tenant's restore points, a restore to a point in time, a verification.
// They run on a node of the tenant's home region (forwarded there), whose
// replicator and files they use.
func (s *Server) platformBackupRoutes(e *echo.Echo, admin echo.MiddlewareFunc) {
	e.Match(readMethods, "/platform/tenants/:id/backups", with(s.listBackups, admin))
	e.POST("/platform/tenants/:id/restore-backup", with(s.restoreBackup, admin))
	e.POST("/platform/tenants/:id/verify-backup", with(s.verifyBackup, admin))
}

// tenantWithBackup is a tenant's record with its replication status.
type tenantWithBackup struct {
	*catalog.Tenant
	Backup *backup.Status `json:"backup,omitempty"`
}

// backupOp runs op for the tenant of :id at its home, or answers 503
// backups_off on a server without --backup-url.
func (s *Server) backupOp(c echo.Context, op func(ctx context.Context, t *catalog.Tenant) (any, error)) error {
	if s.backups == nil {
		return condo.ReasonErrorf(condo.EUNAVAILABLE, "backups_off", "continuous backups are off on this server: start it with --backup-url")
	}
	return s.atHomeOp(c, op)
}

// atHomeOp runs op for the tenant of :id at a node of its home region
// (forwarded there): 200 with what op returns.
func (s *Server) atHomeOp(c echo.Context, op func(ctx context.Context, t *catalog.Tenant) (any, error)) error {
	ctx := c.Request().Context()
	t, err := s.catalog.Tenant(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if s.elsewhere(c, t.Region) {
		return s.forward(c, t.Region, t.ID, "")
	}
	out, err := op(ctx, t)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// listBackups serves GET /platform/tenants/:id/backups: the tenant's
// local snapshots and, with continuous backups on, the replica's levels
// and time range and the tenant's live status.
func (s *Server) listBackups(c echo.Context) error {
	return s.atHomeOp(c, func(ctx context.Context, t *catalog.Tenant) (any, error) {
		local, err := backup.LocalSnapshots(s.store.DataDir(), t.ID)
		if err != nil {
			return nil, err
		}
		out := map[string]any{"local": local}
		if s.backups == nil {
			return out, nil
		}
		p, err := s.backups.List(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		out["points"], out["status"] = p, s.backups.Status(t.ID)
		return out, nil
	})
}

// restoreBackupBody is the body of POST /platform/tenants/:id/restore-backup.
type restoreBackupBody struct {
	// Timestamp is the point in time (RFC 3339); empty: the latest.
	Timestamp string `json:"timestamp"`
	// Snapshot restores a local scheduled snapshot instead (its name or
	// time as GET .../backups lists it, or "latest"): no replicator needed.
	Snapshot string `json:"snapshot"`
}

// restoreBackup serves POST /platform/tenants/:id/restore-backup.
func (s *Server) restoreBackup(c echo.Context) error {
	var in restoreBackupBody
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if in.Snapshot != "" {
		if in.Timestamp != "" {
			return condo.ReasonErrorf(condo.EINVALID, "invalid_restore", "timestamp and snapshot do not go together: a snapshot has its own time")
		}
		return s.atHomeOp(c, func(ctx context.Context, t *catalog.Tenant) (any, error) {
			r, err := backup.RestoreSnapshot(ctx, s.catalog, s.store, t.ID, in.Snapshot)
			if err == nil {
				s.content.Invalidate(t.ID)
			}
			return r, err
		})
	}
	var at time.Time
	if in.Timestamp != "" {
		var err error
		if at, err = time.Parse(time.RFC3339Nano, in.Timestamp); err != nil {
			return condo.ReasonErrorf(condo.EINVALID, "invalid_timestamp", "timestamp must be RFC 3339, such as 2026-01-02T15:04:05Z")
		}
	}
	return s.backupOp(c, func(ctx context.Context, t *catalog.Tenant) (any, error) {
		r, err := backup.RestoreTenant(ctx, s.backups, s.catalog, s.store, t.ID, at)
		if err == nil {
			s.content.Invalidate(t.ID)
		}
		return r, err
	})
}

// verifyBackup serves POST /platform/tenants/:id/verify-backup: the
// replica where continuous backups are on, and the local snapshots.
func (s *Server) verifyBackup(c echo.Context) error {
	return s.atHomeOp(c, func(ctx context.Context, t *catalog.Tenant) (any, error) {
		return backup.VerifyAll(ctx, s.backups, s.store, t.ID)
	})
}

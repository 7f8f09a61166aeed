package tenantstore

import (
	"context"

	"github.com/condohq/condo/sqlitedb"
)

// Backups is the seam the continuous backup replicator (package backup)
// plugs into, so that only tenants being written cost it anything: an
// idle or read-only tenant is never registered, whatever the fleet's
// size. The store tells it two things about local tenants:
//
//   - Written(id, path), once per open handle, at the handle's first
//     commit (sqlitedb.WatchCommits). It runs inside that commit, on the
//     writer's goroutine, so it must only queue the tenant.
//   - Closing(id), before the handle closes (evicted, taken out of
//     service, the store closing), and before the store's closing
//     checkpoint: the replicator's final sync. It may block for as long
//     as the replicator bounds that sync.
//   - Erase(ctx, id), from EraseBackups, when a GDPR delete removes the
//     tenant: its replica in the object store goes with its files.
//
// Remote tenants (libSQL) have no file here and are never reported.
type Backups interface {
	Written(id, path string)
	Closing(id string)
	Erase(ctx context.Context, id string) error
}

// EraseBackups removes tenant id's replica from the backup store, if the
// store has a replicator; idempotent. lifecycle's delete calls it after
// RemoveFiles.
func (s *Store) EraseBackups(ctx context.Context, id string) error {
	if s.cfg.Backups == nil {
		return nil
	}
	return s.cfg.Backups.Erase(ctx, id)
}

// watchWrites arms h's commit watch.
func (s *Store) watchWrites(h *Handle) {
	if s.cfg.Backups == nil || h.local == nil {
		return
	}
	id, path := h.TenantID, h.local.Path
	h.unwatch = sqlitedb.WatchCommits(path, func() { s.cfg.Backups.Written(id, path) })
}

// backupClosing tells the replicator that h is about to close. A newer
// handle of the same tenant may be open beside it (h was evicted while
// in use and the tenant opened again): the replicator just let the
// tenant go, so that handle's watch is armed again, and its next commit
// registers the tenant anew.
func (s *Store) backupClosing(h *Handle) {
	if s.cfg.Backups == nil || h.local == nil {
		return
	}
	if h.unwatch != nil {
		h.unwatch()
	}
	s.cfg.Backups.Closing(h.TenantID)
	s.mu.Lock()
	cur, ok := s.pool.Peek(h.TenantID)
	s.mu.Unlock()
	if ok && cur != h {
		s.watchWrites(cur)
	}
}

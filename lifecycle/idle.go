package lifecycle

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
)

// autoMarker, beside an archive, says the idle archiver made it: such a
// tenant may be woken by a request (Wake); one an operator archived is not.
const autoMarker = "auto"

// ArchiveIdle archives every active tenant homed here that nothing has
// written for idle and that is not open in the pool now, marking each
// archive as automatic. A tenant's last write is its database file's (or
// WAL's) modification time: reads leave no trace on disk, so a tenant
// read but never written is archived too once it leaves the pool. It
// returns how many it archived; one that fails is skipped (its error
// logged by the caller through errs) and the rest go on.
func ArchiveIdle(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, idle time.Duration, condoVersion string, errs func(id string, err error)) (int, error) {
	open := store.OpenTenants()
	cutoff := time.Now().Add(-idle)
	var ids []string // listed first: archiving them changes the active set being paged
	for offset := 0; ; offset += 500 {
		ts, _, err := cat.Tenants(ctx, catalog.TenantFilter{Status: catalog.StatusActive, Limit: 500, Offset: offset})
		if err != nil {
			return 0, err
		}
		for _, t := range ts {
			if t.Location == "" && homeHere(cat, t) && !slices.Contains(open, t.ID) && writtenBefore(store, t.ID, cutoff) {
				ids = append(ids, t.ID)
			}
		}
		if len(ts) < 500 {
			break
		}
	}
	n := 0
	for _, id := range ids {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if _, err := Archive(ctx, cat, store, id, condoVersion); err != nil {
			errs(id, err)
			continue
		}
		os.WriteFile(filepath.Join(filepath.Dir(store.ArchivePath(id)), autoMarker), nil, 0o640)
		n++
	}
	return n, nil
}

// writtenBefore reports whether tenant id's database and WAL were last
// modified before cutoff.
func writtenBefore(store *tenantstore.Store, id string, cutoff time.Time) bool {
	path, err := store.Path(id)
	if err != nil {
		return false
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err == nil && !fi.ModTime().Before(cutoff) {
			return false
		}
		if err != nil && p == path {
			return false // no database here: nothing to archive
		}
	}
	return true
}

// Wake restores tenant id if the idle archiver archived it (a tenant an
// operator archived stays asleep), and reports whether it did.
func Wake(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id string) (bool, error) {
	if _, err := os.Stat(filepath.Join(filepath.Dir(store.ArchivePath(id)), autoMarker)); err != nil {
		return false, nil
	}
	if _, err := Restore(ctx, cat, store, id); err != nil {
		return false, err
	}
	return true, nil
}

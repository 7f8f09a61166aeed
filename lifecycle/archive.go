package lifecycle

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
)

// Archive puts tenant id to sleep: out of service on this node, its
// folder written as one archive (the export format) to
// <data>/archive/<id>/<id>.tar.zst, the archive read back and verified,
// the tenant marked archived (its hosts answer 410 tenant_archived), and
// only then its live files removed. Killed at any step, it leaves the
// tenant whole: before the mark it is still active with its files (a
// half-written archive is a temporary file, never the archive); after
// it, the verified archive is there and running Archive again removes
// what live files remain.
//
// Errors: ECONFLICT tenant_busy while libSQL streams hold the tenant
// (nothing changed), ECONFLICT wrong_region on a node of another region,
// ECONFLICT already_archived.
func Archive(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id, condoVersion string) (*catalog.Tenant, error) {
	return catalog.Tracked(ctx, cat, catalog.JobArchive, id, func(ctx context.Context, j *catalog.TrackedJob) (*catalog.Tenant, error) {
		return archive(ctx, cat, store, id, condoVersion, j)
	})
}

func archive(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id, condoVersion string, j *catalog.TrackedJob) (*catalog.Tenant, error) {
	t, err := cat.Tenant(ctx, id)
	if err != nil {
		return nil, err
	}
	if !homeHere(cat, t) {
		return nil, wrongRegion(t, "archive")
	}
	if t.Status == catalog.StatusArchived {
		if !store.HasLive(id) {
			return nil, condo.ReasonErrorf(condo.ECONFLICT, "already_archived", "tenant %s is archived already", id)
		}
		j.Progress(ctx, "removing the live files an interrupted archive left")
		return finishArchive(ctx, cat, store, id) // a crash came between the mark and the removal
	}
	handBack, busy, err := store.TakeOut(ctx, id)
	if err != nil {
		return nil, err
	}
	defer handBack()
	if busy > 0 {
		return nil, condo.ReasonErrorf(condo.ECONFLICT, "tenant_busy", "tenant %s has %d open libSQL streams: archive it once they end", id, busy)
	}
	path := store.ArchivePath(id)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".archive-*.tmp")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name()) // gone once renamed; removed if anything failed
	_, err = Export(ctx, cat, store, id, f, ExportOptions{CondoVersion: condoVersion, Action: "tenant.archive",
		Progress: j.ByteProgress(ctx, "archived", nil)})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return nil, err
	}
	if err := condo.SyncDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	j.Progress(ctx, "verifying the archive")
	if err := verifyFile(ctx, path); err != nil {
		return nil, err
	}
	condo.CrashAt(CrashEnv, "archive:written")
	if _, err := cat.SetStatus(ctx, id, catalog.StatusArchived); err != nil {
		return nil, err
	}
	condo.CrashAt(CrashEnv, "archive:marked")
	return finishArchive(ctx, cat, store, id)
}

func finishArchive(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id string) (*catalog.Tenant, error) {
	if err := store.RemoveLive(id); err != nil {
		return nil, err
	}
	return cat.Tenant(ctx, id)
}

// Restore wakes an archived tenant: its archive is verified and staged,
// the database migrated up if the fleet moved on while it slept, the
// folder put back, the tenant marked active and the archive removed.
// Killed at any step, the tenant stays archived with its archive intact
// (a folder put back before the mark is moved aside by the rerun) until a
// Restore completes.
//
// Errors: ECONFLICT not_archived, ECONFLICT wrong_region, EUNAVAILABLE
// archive_missing, EINVALID invalid_import for a damaged archive.
func Restore(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id string) (*catalog.Tenant, error) {
	return catalog.Tracked(ctx, cat, catalog.JobRestore, id, func(ctx context.Context, j *catalog.TrackedJob) (*catalog.Tenant, error) {
		return restore(ctx, cat, store, id, j)
	})
}

func restore(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id string, j *catalog.TrackedJob) (*catalog.Tenant, error) {
	t, err := cat.Tenant(ctx, id)
	if err != nil {
		return nil, err
	}
	if !homeHere(cat, t) {
		return nil, wrongRegion(t, "restore")
	}
	if t.Status != catalog.StatusArchived {
		return nil, condo.ReasonErrorf(condo.ECONFLICT, "not_archived", "tenant %s is not archived", id)
	}
	handBack, _, err := store.TakeOut(ctx, id)
	if err != nil {
		return nil, err
	}
	defer handBack()
	path := store.ArchivePath(id)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "archive_missing", "the archive of tenant %s is not on this node", id)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	staging, err := store.NewStaging()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging)
	m, got, _, err := stage(ctx, f, staging, j.ByteProgress(ctx, "read", nil))
	if err != nil {
		return nil, err
	}
	if err := check(m, got); err != nil {
		return nil, err
	}
	if m.Tenant.ID != id {
		return nil, invalid("the archive at %s is tenant %s's, not %s's", path, m.Tenant.ID, id)
	}
	if _, err := store.Reinstate(ctx, id, staging); err != nil {
		return nil, err
	}
	condo.CrashAt(CrashEnv, "restore:installed")
	if t, err = cat.SetStatus(ctx, id, catalog.StatusActive); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(filepath.Dir(path)); err != nil {
		return nil, err
	}
	cat.RecordAudit(ctx, "tenant.restore", id, "", map[string]any{"from_schema_version": m.SchemaVersion, "archived_at": m.CreatedAt})
	return t, nil
}

// verifyFile checks the archive at path to its last byte.
func verifyFile(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = Verify(ctx, f)
	return err
}

func wrongRegion(t *catalog.Tenant, op string) error {
	return condo.ReasonErrorf(condo.ECONFLICT, "wrong_region",
		"tenant %s lives in region %s: %s it on a node there (the platform API on any node goes there)", t.ID, t.Region, op)
}

package backup

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
)

// RestoreSnapshot brings tenant id back to one of its local scheduled
// snapshots (LocalSnapshots), named by its file name (with or without
// .db), its time (RFC 3339) or "latest". The snapshot is copied (it stays
// listed) into a staging folder while the tenant serves, migrated up if
// the fleet moved on since, and swapped in by the steps and crash points
// of RestoreTenant: the state before is kept whole under
// <data>/replaced/, and a kill -9 at any step leaves the tenant whole in
// exactly one place. No object store is needed.
//
// Errors: EINVALID (invalid_snapshot) for an empty name; ENOTFOUND
// (snapshot_not_found) for a name that is none of the tenant's snapshots;
// those of RestoreTenant's swap (tenant_archived, tenant_busy, ...).
func RestoreSnapshot(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id, name string) (*Restored, error) {
	return catalog.Tracked(ctx, cat, catalog.JobRestoreSnapshot, id, func(ctx context.Context, j *catalog.TrackedJob) (*Restored, error) {
		if _, err := cat.Lookup(ctx, id); err != nil {
			return nil, err
		}
		snap, err := findSnapshot(store.DataDir(), id, name)
		if err != nil {
			return nil, err
		}
		out := &Restored{Tenant: id, At: snap.At, Snapshot: filepath.Base(snap.Path)}
		if err := swapIn(ctx, cat, store, id, j, out, func(db string) error { return copySnapshot(snap.Path, db) }); err != nil {
			return nil, err
		}
		cat.RecordAudit(ctx, "tenant.restore_snapshot", id, "", map[string]any{"snapshot": out.Snapshot, "at": snap.At, "kept": out.Kept, "checksum": out.Checksum})
		return out, nil
	})
}

// findSnapshot is tenant id's snapshot called name. Only the listed
// snapshots can match, so a name never reaches outside the tenant's
// snapshot folder.
func findSnapshot(dataDir, id, name string) (*LocalSnapshot, error) {
	if name == "" {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_snapshot", "name a snapshot: its file name or time as `condo tenants backups %s` lists it, or latest", id)
	}
	have, err := LocalSnapshots(dataDir, id)
	if err != nil {
		return nil, err
	}
	if name == "latest" && len(have) > 0 {
		return &have[len(have)-1], nil
	}
	at, timeErr := time.Parse(time.RFC3339Nano, name)
	for i, s := range have {
		base := filepath.Base(s.Path)
		if name == base || name+".db" == base || timeErr == nil && at.Equal(s.At) {
			return &have[i], nil
		}
	}
	return nil, condo.ReasonErrorf(condo.ENOTFOUND, "snapshot_not_found", "tenant %s has no local snapshot %q (`condo tenants backups %s` lists them)", id, condo.Clip(name), id)
}

// copySnapshot copies the snapshot file at from to a staged database at
// to, synced.
func copySnapshot(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return condo.ReasonErrorf(condo.EUNAVAILABLE, "storage_error", "cannot read the snapshot: %v", err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return condo.ReasonErrorf(condo.EUNAVAILABLE, "storage_error", "cannot stage the snapshot: %v", strings.TrimPrefix(err.Error(), to+": "))
	}
	return nil
}

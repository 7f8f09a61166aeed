package lifecycle

import (
	"context"

	"github.com/condohq/condo"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
)

// Delete erases tenant id for good (the GDPR erasure): it is suspended and
// given a tombstone (who, when, why), taken out of service on this node,
// its files removed (database, WAL, SHM, media, archive, local snapshots,
// leftovers of interrupted operations; a tenant at a remote libSQL
// location has its database there emptied: tenantstore.EraseRemote), then
// everything the catalog holds
// of it (row, domains, invitations, schedule, outbox mail, security
// events, the records in its audit entries). Each step is idempotent and
// the tombstone says where it stands, so a delete interrupted at any step
// (kill -9 included) is finished by running it again, or by ResumeDeletes
// when a server starts: the tenant ends wholly absent.
//
// Another process serving the tenant sees it suspended within the
// catalog's CacheTTL and gone after; its open handle (on files now
// unlinked) closes when its pool lets it go.
//
// The files live on the tenant's home node, so only a node of its home
// region (or one without a region) deletes it: elsewhere ECONFLICT
// wrong_region, before anything changes.
func Delete(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id, reason string) (*catalog.Tombstone, error) {
	return catalog.Tracked(ctx, cat, catalog.JobDelete, id, func(ctx context.Context, _ *catalog.TrackedJob) (*catalog.Tombstone, error) {
		return deleteTenant(ctx, cat, store, id, reason)
	})
}

func deleteTenant(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id, reason string) (*catalog.Tombstone, error) {
	if t, err := cat.Lookup(ctx, id); err == nil {
		if !homeHere(cat, t) {
			return nil, wrongRegion(t, "delete")
		}
	}
	if _, err := cat.BeginDelete(ctx, id, reason); err != nil {
		return nil, err
	}
	condo.CrashAt(CrashEnv, "delete:begun")
	return finishDelete(ctx, cat, store, id)
}

// CrashEnv names the step at which a lifecycle operation kills its
// process (condo.CrashAt) in the crash tests: delete:begun (tombstone
// written), delete:files (files removed), archive:written (archive
// verified), archive:marked (tenant marked archived), restore:installed
// (folder back, not yet marked active), replace:staged (the archive
// verified and staged), replace:swapped (the folders traded places).
// Only tests set it.
const CrashEnv = "CONDO_TEST_LIFECYCLE_CRASH_AT"

// homeHere reports whether this node holds t's files.
func homeHere(cat *catalog.Catalog, t *catalog.Tenant) bool {
	node := cat.Config().Region
	return node == "" || t.Region == "" || t.Region == node
}

func finishDelete(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id string) (*catalog.Tombstone, error) {
	handBack, _, err := store.TakeOut(ctx, id)
	if err != nil {
		return nil, err
	}
	defer handBack() // its Acquires then find no tenant
	// A tenant at a remote libSQL location: its database there is
	// emptied (until it is, the tombstone stays deleting, and the next
	// serve tries again); its media are on this node, with its folder.
	if t, err := cat.Lookup(ctx, id); err == nil && t.Location != "" {
		if err := store.EraseRemote(ctx, t); err != nil {
			return nil, err
		}
	}
	if err := store.RemoveFiles(id); err != nil {
		return nil, err
	}
	if err := store.EraseBackups(ctx, id); err != nil { // the object store's replica (package backup)
		return nil, err
	}
	condo.CrashAt(CrashEnv, "delete:files")
	return cat.FinishDelete(ctx, id)
}

// ResumeDeletes finishes the deletes a crash interrupted: every tombstone
// still in state deleting whose tenant lives here (another region's node
// finishes its own). It returns how many it finished.
func ResumeDeletes(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store) (int, error) {
	pending, err := cat.Tombstones(ctx, catalog.TombstoneDeleting)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ts := range pending {
		if t, err := cat.Lookup(ctx, ts.ID); err == nil && !homeHere(cat, t) {
			continue
		}
		if _, err := catalog.Tracked(ctx, cat, catalog.JobDelete, ts.ID, func(ctx context.Context, j *catalog.TrackedJob) (*catalog.Tombstone, error) {
			j.Progress(ctx, "resumed: finishing a delete a crash interrupted")
			return finishDelete(ctx, cat, store, ts.ID)
		}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

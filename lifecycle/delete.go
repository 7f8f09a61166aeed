package lifecycle

import (
	"context"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
)

// Delete erases tenant id for good (the GDPR erasure): it is suspended and
// given a tombstone (who, when, why), taken out of service on this node,
// its files removed (database, WAL, SHM, media, archive, local snapshots,
// leftovers of interrupted operations), then everything the catalog holds
// of it (row, domains, invitations, schedule, outbox mail, security
// events, the records in its audit entries). Each step is idempotent and
// the tombstone says where it stands, so a delete interrupted at any step
// (kill -9 included) is finished by running it again, or by ResumeDeletes
// when a server starts: the tenant ends wholly absent.
//
// Another process serving the tenant sees it suspended within the
// catalog's CacheTTL and gone after; its open handle (on files now
// unlinked) closes when its pool lets it go.
func Delete(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id, reason string) (*catalog.Tombstone, error) {
	if _, err := cat.BeginDelete(ctx, id, reason); err != nil {
		return nil, err
	}
	return finishDelete(ctx, cat, store, id)
}

func finishDelete(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id string) (*catalog.Tombstone, error) {
	handBack, _, err := store.TakeOut(ctx, id)
	if err != nil {
		return nil, err
	}
	defer handBack() // its Acquires then find no tenant
	if err := store.RemoveFiles(id); err != nil {
		return nil, err
	}
	return cat.FinishDelete(ctx, id)
}

// ResumeDeletes finishes the deletes a crash interrupted: every tombstone
// still in state deleting. It returns how many it finished.
func ResumeDeletes(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store) (int, error) {
	pending, err := cat.Tombstones(ctx, catalog.TombstoneDeleting)
	if err != nil {
		return 0, err
	}
	for i, ts := range pending {
		if _, err := finishDelete(ctx, cat, store, ts.ID); err != nil {
			return i, err
		}
	}
	return len(pending), nil
}

package lifecycle

import (
	"context"
	"os"
	"path/filepath"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
)

// Provision creates tenant in with a database that fill has written
// first: fill gets the new database in a staging directory (nobody serves
// it yet) and the media folder beside it; then tenantstore.CreateFrom
// moves both in with the catalog row. Either the tenant exists with
// everything fill wrote, or nothing of it does: a self-service sign-up's
// first user and starter content cannot be left half made.
func Provision(ctx context.Context, store *tenantstore.Store, in catalog.NewTenant, fill func(ctx context.Context, db *sqlitedb.DB, mediaDir string) error) (*catalog.Tenant, error) {
	staging, err := store.NewStaging()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging) // after a success it was moved into the tenant
	path := filepath.Join(staging, "tenant.db")
	if _, err := store.WriteTemplate(path); err != nil {
		return nil, err
	}
	db, err := sqlitedb.Open(path, sqlitedb.Options{Readers: 1})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := fill(ctx, db, filepath.Join(staging, "media")); err != nil {
		return nil, err
	}
	if err := db.Checkpoint(ctx); err != nil {
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	return store.CreateFrom(ctx, in, staging)
}

package tenantstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// A database behind the binary's schema is migrated by the first Acquire;
// concurrent acquirers wait for that one migration and get the result.
func TestStore_Acquire_MigratesOnOpen(t *testing.T) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 4})
	env.MustCreate(t, "old")
	path, _ := env.Store.Path("old")
	db, err := sqlitedb.Open(path, sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Tenant().Apply(ctx, db.Write, 0); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := env.Catalog.SetSchemaState(ctx, "old", catalog.SchemaState{}); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, release, err := env.Store.Acquire(ctx, "old")
			if err != nil {
				t.Error(err)
				return
			}
			defer release()
			var n int
			if err := h.Reader().QueryRow("SELECT count(*) FROM users").Scan(&n); err != nil {
				t.Errorf("handed out before its migration finished: %v", err)
			}
		}()
	}
	wg.Wait()
	ten, err := env.Catalog.Tenant(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ten.Schema.Version, migrations.Tenant().Latest(); got != want || ten.Schema.Dirty || ten.Schema.Error != "" {
		t.Errorf("schema = %+v, want version %d, clean", ten.Schema, want)
	}
}

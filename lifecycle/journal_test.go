package lifecycle_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/lifecycle"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// An imported, restored or replaced tenant runs in WAL mode like every
// other, though its archive holds a snapshot in rollback-journal mode.
func TestImportedTenantsRunInWAL(t *testing.T) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, storeConfig())
	env.MustCreate(t, "a", "c")
	archive := export(t, env, "a")
	if _, err := lifecycle.Import(ctx, env.Catalog, env.Store, bytes.NewReader(archive), lifecycle.ImportOptions{ID: "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := lifecycle.Import(ctx, env.Catalog, env.Store, bytes.NewReader(archive), lifecycle.ImportOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := lifecycle.Archive(ctx, env.Catalog, env.Store, "c", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := lifecycle.Restore(ctx, env.Catalog, env.Store, "c"); err != nil {
		t.Fatal(err)
	}
	env.Store.Close(ctx)
	for _, id := range []string{"a", "b", "c"} {
		p, _ := env.Store.Path(id)
		db, err := sqlitedb.Open(p, sqlitedb.Options{Readers: 1})
		if err != nil {
			t.Fatal(err)
		}
		var mode string
		db.Read.QueryRow("PRAGMA journal_mode").Scan(&mode)
		db.Close()
		if mode != "wal" {
			t.Errorf("%s runs in journal mode %q", id, mode)
		}
	}
}

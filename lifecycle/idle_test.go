package lifecycle_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/lifecycle"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// The idle archiver takes tenants unwritten for the period and not open;
// Wake restores those, and only those.
func TestArchiveIdle_AndWake(t *testing.T) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, storeConfig())
	env.MustCreate(t, "old", "fresh", "busy", "manual")
	past := time.Now().Add(-2 * time.Hour)
	for _, id := range []string{"old", "busy", "manual"} {
		path, _ := env.Store.Path(id)
		os.Chtimes(path, past, past)
		os.Chtimes(path+"-wal", past, past)
	}
	_, release, err := env.Store.Acquire(ctx, "busy") // open in the pool: in use
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := lifecycle.Archive(ctx, env.Catalog, env.Store, "manual", "test"); err != nil {
		t.Fatal(err)
	}
	n, err := lifecycle.ArchiveIdle(ctx, env.Catalog, env.Store, time.Hour, "test", func(id string, err error) { t.Errorf("%s: %v", id, err) })
	if err != nil || n != 1 {
		t.Fatalf("archived %d: %v", n, err)
	}
	for id, want := range map[string]string{"old": catalog.StatusArchived, "fresh": catalog.StatusActive, "busy": catalog.StatusActive} {
		if tn, _ := env.Catalog.Tenant(ctx, id); tn.Status != want {
			t.Errorf("%s: %s, want %s", id, tn.Status, want)
		}
	}
	if woke, err := lifecycle.Wake(ctx, env.Catalog, env.Store, "manual"); woke || err != nil {
		t.Errorf("an operator's archive woke: %v %v", woke, err)
	}
	if woke, err := lifecycle.Wake(ctx, env.Catalog, env.Store, "old"); !woke || err != nil {
		t.Fatalf("wake: %v %v", woke, err)
	}
	if tn, _ := env.Catalog.Tenant(ctx, "old"); tn.Status != catalog.StatusActive {
		t.Errorf("woken tenant: %s", tn.Status)
	}
}

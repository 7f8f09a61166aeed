package tenantstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// TakeOut closes the open handle once its holder lets go, makes Acquires
// wait for the hand-back (or answer tenant_busy past the bound), and
// Retired turns away opens of an older epoch.
func TestStore_TakeOut(t *testing.T) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{BusyWait: 100 * time.Millisecond})
	if _, err := env.Store.Create(ctx, catalog.NewTenant{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	h, release, err := env.Store.Acquire(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(50 * time.Millisecond); release() }()
	handBack, holders, err := env.Store.TakeOut(ctx, "acme")
	if err != nil || holders != 0 {
		t.Fatalf("take out: %d %v", holders, err)
	}
	if db, _ := h.Local(); db.Ping(ctx) == nil {
		t.Error("the taken-out handle is still open")
	}
	if _, _, ok := env.Store.Holds("acme"); ok {
		t.Error("still in the pool")
	}
	if _, _, err := env.Store.TakeOut(ctx, "acme"); condo.ErrorCode(err) != condo.ECONFLICT {
		t.Errorf("second take-out: %v", err)
	}
	if _, _, err := env.Store.Acquire(ctx, "acme"); condo.ErrorReason(err) != "tenant_busy" {
		t.Errorf("acquire past the bound: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, rel, err := env.Store.Acquire(ctx, "acme")
		if err == nil {
			rel()
		}
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	handBack()
	if err := <-done; err != nil {
		t.Errorf("acquire waiting for the hand-back: %v", err)
	}

	// Held by a pinned holder that never lets go: TakeOut returns at the
	// deadline and says so.
	ten, _ := env.Catalog.Lookup(ctx, "acme")
	_, unpin, err := env.Store.AcquirePinned(ctx, ten)
	if err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	handBack, holders, err = env.Store.TakeOut(dctx, "acme")
	cancel()
	if err != nil || holders != 1 {
		t.Fatalf("take out of a pinned tenant: %d %v", holders, err)
	}
	env.Store.Retired("acme", ten.Epoch)
	handBack()
	unpin()
	if _, _, err := env.Store.Acquire(ctx, "acme"); condo.ErrorReason(err) != "tenant_moved" {
		t.Errorf("acquire of a retired epoch: %v", err)
	}
}

package tenantstore_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// OnOpen hears of every open into the pool and of no hit; AcquireIfOpen
// hands out only handles that are open already.
func TestStore_OnOpenAndAcquireIfOpen(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var opened []string
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 1, OnOpen: func(id string) {
		mu.Lock()
		defer mu.Unlock()
		opened = append(opened, id)
	}})
	env.MustCreate(t, "a", "b")
	if _, _, ok := env.Store.AcquireIfOpen("a"); ok {
		t.Fatal("AcquireIfOpen handed out a tenant that was never opened")
	}
	for _, id := range []string{"a", "a", "b", "a"} { // b evicts a (pool of one)
		_, release, err := env.Store.Acquire(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	mu.Lock()
	got := slices.Clone(opened)
	mu.Unlock()
	if want := []string{"a", "b", "a"}; !slices.Equal(got, want) {
		t.Errorf("OnOpen heard %v, want %v", got, want)
	}
	if got, want := env.Store.OpenTenants(), []string{"a"}; !slices.Equal(got, want) {
		t.Errorf("OpenTenants = %v, want %v", got, want)
	}
	h, release, ok := env.Store.AcquireIfOpen("a")
	if !ok {
		t.Fatal("AcquireIfOpen refused an open tenant")
	}
	if err := h.Reader().PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	release()
	if _, _, ok := env.Store.AcquireIfOpen("b"); ok {
		t.Error("AcquireIfOpen handed out an evicted tenant")
	}
}

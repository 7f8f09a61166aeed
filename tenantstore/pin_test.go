package tenantstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// A pinned tenant stays open, as the one handle of its tenant, however
// many others pass through the pool; once unpinned it can be evicted, and
// the pool, which ran over its size while every handle was pinned, comes
// back under it.
func TestStore_AcquirePinned(t *testing.T) {
	ctx := context.Background()
	const size = 2
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: size})
	ids := make([]string, 10)
	for i := range ids {
		ids[i] = fmt.Sprintf("t%02d", i)
	}
	env.MustCreate(t, ids...)
	pin := func(id string) (*tenantstore.Handle, func()) {
		t.Helper()
		ten, err := env.Catalog.Lookup(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		h, release, err := env.Store.AcquirePinned(ctx, ten)
		if err != nil {
			t.Fatal(err)
		}
		return h, release
	}
	visit := func(id string) *tenantstore.Handle {
		t.Helper()
		h, release, err := env.Store.Acquire(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		release()
		return h
	}

	t.Run("NeverEvicted", func(t *testing.T) {
		h, unpin := pin("t00")
		for range 3 {
			for _, id := range ids[1:] {
				visit(id)
			}
		}
		if got := visit("t00"); got != h {
			t.Errorf("t00 was evicted under its pin: a second handle was opened")
		}
		if refs, pins, ok := env.Store.Holds("t00"); !ok || refs != 1 || pins != 1 {
			t.Errorf("Holds(t00) = %d, %d, %v; want 1, 1, true", refs, pins, ok)
		}
		if st := env.Store.Stats(); st.Pinned != 1 || st.Open > size {
			t.Errorf("stats %+v: want 1 pinned, at most %d open", st, size)
		}
		unpin()
		unpin() // a second call is a no-op
		if refs, pins, _ := env.Store.Holds("t00"); refs != 0 || pins != 0 {
			t.Errorf("after unpin: refs %d, pins %d", refs, pins)
		}
		for _, id := range ids[1:] {
			visit(id)
			visit(id) // twice: frequent, as t00 is (ARC keeps it over tenants seen once)
		}
		if _, _, ok := env.Store.Holds("t00"); ok {
			t.Errorf("t00 still open after its pin ended and %d other tenants came back", len(ids)-1)
		}
	})

	t.Run("AllPinned", func(t *testing.T) {
		var unpins []func()
		for _, id := range ids[:size+1] { // one more than the pool holds
			_, unpin := pin(id)
			unpins = append(unpins, unpin)
		}
		if st := env.Store.Stats(); st.Open != size+1 || st.Pinned != size+1 {
			t.Errorf("stats %+v: want every pinned handle open", st)
		}
		for _, id := range ids[:size+1] {
			if _, pins, ok := env.Store.Holds(id); !ok || pins != 1 {
				t.Errorf("%s: open %v, pins %d", id, ok, pins)
			}
		}
		for _, unpin := range unpins {
			unpin()
		}
		visit(ids[size+2])
		if st := env.Store.Stats(); st.Open > size || st.Pinned != 0 {
			t.Errorf("stats %+v after the pins ended: want at most %d open, none pinned", st, size)
		}
	})
}

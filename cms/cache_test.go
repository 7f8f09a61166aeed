package cms_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo/cms"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// TestCache_WritesInvalidate: every write through a store of the cache
// drops exactly its tenant's cached collections and totals; a refused
// write drops nothing.
func TestCache_WritesInvalidate(t *testing.T) {
	ctx := context.Background()
	env, stores := newContent(t, "a", "b")
	cache := cms.NewCache(100, time.Minute, nil)
	cached := map[string]*cms.Store{}
	for id := range stores {
		h, release, err := env.Store.Acquire(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(release)
		cached[id] = cache.Store(id, h.DB, t.TempDir())
	}
	a, b := cached["a"], cached["b"]
	col, err := a.CachedCollection(ctx, "posts")
	if err != nil {
		t.Fatal(err)
	}
	bCol, err := b.CachedCollection(ctx, "posts")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := a.CachedCollection(ctx, "posts"); again != col {
		t.Fatal("a second read parsed the collection again")
	}
	total := func(st *cms.Store) int {
		page, err := st.List(ctx, nil, cms.ListOptions{CollectionID: col.ID})
		if err != nil {
			t.Fatal(err)
		}
		return page.Total
	}
	if n := total(a); n != 0 {
		t.Fatalf("total %d", n)
	}
	total(b)

	// A write made outside the cache (another process) is not seen yet:
	// the total is remembered.
	if _, err := stores["a"].CreateItem(ctx, col, cms.ItemInput{Title: "elsewhere"}, ""); err != nil {
		t.Fatal(err)
	}
	if n := total(a); n != 0 {
		t.Fatalf("a remembered total was counted again: %d", n)
	}

	gen, bGen := cache.Generation("a"), cache.Generation("b")
	if _, err := a.CreateItem(ctx, col, cms.ItemInput{Title: "here"}, ""); err != nil {
		t.Fatal(err)
	}
	if cache.Generation("a") != gen+1 || cache.Generation("b") != bGen {
		t.Fatalf("generations %d→%d, b %d→%d", gen, cache.Generation("a"), bGen, cache.Generation("b"))
	}
	if n := total(a); n != 2 {
		t.Fatalf("total after a write: %d", n)
	}
	if again, _ := a.CachedCollection(ctx, "posts"); again == col {
		t.Fatal("a's collection survived a's write")
	}
	if again, _ := b.CachedCollection(ctx, "posts"); again != bCol {
		t.Fatal("b's collection did not survive a's write")
	}

	// A refused write (the precondition fails inside the transaction)
	// drops nothing.
	gen = cache.Generation("a")
	refused := func(*cms.Collection) error { return context.Canceled }
	if _, err := a.UpdateCollection(ctx, "posts", cms.CollectionUpdate{}, refused); err == nil {
		t.Fatal("the refused update went through")
	}
	if cache.Generation("a") != gen {
		t.Fatal("a refused write bumped the generation")
	}
}

// TestCache_Expires: entries are trusted for the TTL only, so a write
// made elsewhere (another process on the same files) is seen within it.
func TestCache_Expires(t *testing.T) {
	ctx := context.Background()
	env, stores := newContent(t, "a")
	clock := &fakeClock{t: time.Now()}
	cache := cms.NewCache(100, time.Minute, clock.Now)
	h, release, err := env.Store.Acquire(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	st := cache.Store("a", h.DB, t.TempDir())
	col, err := st.CachedCollection(ctx, "posts")
	if err != nil {
		t.Fatal(err)
	}
	list := func() int {
		page, err := st.List(ctx, nil, cms.ListOptions{CollectionID: col.ID})
		if err != nil {
			t.Fatal(err)
		}
		return page.Total
	}
	list()
	public := false
	if _, err := stores["a"].UpdateCollection(ctx, "posts", cms.CollectionUpdate{Public: &public}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := stores["a"].CreateItem(ctx, col, cms.ItemInput{Title: "elsewhere"}, ""); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute - time.Second)
	if got, _ := st.CachedCollection(ctx, "posts"); !got.Public || list() != 0 {
		t.Fatal("an entry expired before the TTL")
	}
	clock.Advance(time.Second)
	if got, _ := st.CachedCollection(ctx, "posts"); got.Public {
		t.Fatal("the collection outlived the TTL")
	}
	if n := list(); n != 1 {
		t.Fatalf("the total outlived the TTL: %d", n)
	}
}

// TestCache_Nil: a nil cache caches nothing and still builds stores.
func TestCache_Nil(t *testing.T) {
	ctx := context.Background()
	env, _ := newContent(t, "a")
	h, release, err := env.Store.Acquire(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var cache *cms.Cache
	st := cache.Store("a", h.DB, t.TempDir())
	col, err := st.CachedCollection(ctx, "posts")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateItem(ctx, col, cms.ItemInput{Title: "x"}, ""); err != nil {
		t.Fatal(err)
	}
	cache.Invalidate("a")
	if cache.Generation("a") != 0 {
		t.Fatal("a nil cache counts generations")
	}
}

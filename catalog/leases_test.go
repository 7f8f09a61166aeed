package catalog_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo/catalog"
)

// A migration lease has one holder at a time: others are refused until
// it is released or expires; its holder may take it again (extend it).
func TestCatalog_MigrationLease(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	c := mustOpen(t, t.TempDir(), catalog.Config{Now: clk.Now})
	take := func(holder string) bool {
		t.Helper()
		ok, err := c.TakeMigrationLease(ctx, "acme", holder, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	steps := []struct {
		name string
		do   func() bool
		want bool
	}{
		{"free: a takes it", func() bool { return take("a") }, true},
		{"held: b is refused", func() bool { return take("b") }, false},
		{"its holder extends it", func() bool { return take("a") }, true},
		{"expired: b takes it", func() bool { clk.Advance(61 * time.Second); return take("b") }, true},
		{"b's now: a is refused", func() bool { return take("a") }, false},
		{"released: a takes it", func() bool {
			if err := c.ReleaseMigrationLease(ctx, "acme", "b"); err != nil {
				t.Fatal(err)
			}
			return take("a")
		}, true},
		{"another's release does nothing", func() bool {
			if err := c.ReleaseMigrationLease(ctx, "acme", "b"); err != nil {
				t.Fatal(err)
			}
			return take("b")
		}, false},
	}
	for _, st := range steps {
		if got := st.do(); got != st.want {
			t.Errorf("%s: got %v, want %v", st.name, got, st.want)
		}
	}

	// Taken atomically: of many racing holders, one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for _, h := range []string{"p", "q", "r", "s", "u", "v", "w", "x"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := c.TakeMigrationLease(ctx, "race", h, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d holders took one lease", won)
	}
	if _, err := c.TakeMigrationLease(ctx, "Not A Tenant", "a", time.Minute); err == nil {
		t.Error("a lease on an invalid tenant id")
	}
}

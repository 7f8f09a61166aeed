package plugins_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/plugins"
	"github.com/condohq/condo/plugins/shipped"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// BenchmarkCreateItem measures what hook dispatch adds to a content
// create when the tenant enabled no plugin: the same create on a real
// tenant file with no hooks, with the runner of the shipped plugins and
// nothing enabled, and (for scale) with reading-time enabled.
//
//	go test ./plugins -run '^$' -bench CreateItem -benchtime 2000x -count 3
func BenchmarkCreateItem(b *testing.B) {
	env := tenantstoretest.MustOpen(b, catalog.Config{}, tenantstore.Config{PoolSize: 4})
	env.MustCreate(b, "bench")
	ctx := context.Background()
	h, release, err := env.Store.Acquire(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer release()
	runner := plugins.NewRunner(shipped.Registry(), plugins.Config{TTL: 1 << 62})
	plain := cms.NewCache(100, 0, nil).Store("bench", h.DB, "")
	hooked := cms.NewCache(100, 0, nil).WithHooks(runner).Store("bench", h.DB, "")
	col, err := plain.CreateCollection(ctx, cms.NewCollection{Name: "posts",
		Schema: []byte(`{"type": "object", "properties": {"body": {"type": "string"}, "word_count": {"type": "integer"}, "reading_time": {"type": "integer"}}}`)})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	create := func(b *testing.B, st *cms.Store) {
		for b.Loop() {
			n++
			if _, err := st.CreateItem(ctx, col, cms.ItemInput{Title: fmt.Sprintf("Post %d", n), Data: map[string]any{"body": "a few words of body text"}}, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("no-hooks", func(b *testing.B) { create(b, plain) })
	b.Run("runner-none-enabled", func(b *testing.B) { create(b, hooked) })
	on := true
	if _, err := runner.Configure(ctx, "bench", h.DB, "reading-time", plugins.Change{Enabled: &on}); err != nil {
		b.Fatal(err)
	}
	b.Run("runner-reading-time-enabled", func(b *testing.B) { create(b, hooked) })
}

// BenchmarkBeforeSave_NoneEnabled is the dispatch alone: the cached
// lookup of a tenant that enabled nothing.
func BenchmarkBeforeSave_NoneEnabled(b *testing.B) {
	env := tenantstoretest.MustOpen(b, catalog.Config{}, tenantstore.Config{PoolSize: 4})
	env.MustCreate(b, "bench")
	ctx := context.Background()
	h, release, err := env.Store.Acquire(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer release()
	runner := plugins.NewRunner(shipped.Registry(), plugins.Config{TTL: 1 << 62})
	ev := &cms.SaveEvent{Tenant: "bench", DB: h.DB}
	for b.Loop() {
		if err := runner.BeforeSave(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

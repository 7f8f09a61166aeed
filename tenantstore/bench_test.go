package tenantstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// The benchmarks run on real files in b.TempDir(), as the server does.
// They measure; they never decide pass or fail. docs/PERFORMANCE.md records
// a run beside the targets, and scripts/bench measures the same operations
// at 10,000 tenants.

// BenchmarkStore_Create provisions one tenant per iteration: catalog rows,
// the template copy and its fsyncs. The template is built before the
// timer starts.
func BenchmarkStore_Create(b *testing.B) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(b, catalog.Config{}, tenantstore.Config{})
	env.MustCreate(b, "warmup") // builds the schema template
	i := 0
	for b.Loop() {
		if _, err := env.Store.Create(ctx, catalog.NewTenant{ID: fmt.Sprintf("t%d", i)}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkStore_AcquireWarm acquires and releases a tenant that is open
// in the pool: the cost every request pays at least.
func BenchmarkStore_AcquireWarm(b *testing.B) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(b, catalog.Config{}, tenantstore.Config{PoolSize: 4})
	env.MustCreate(b, "a")
	_, release, err := env.Store.Acquire(ctx, "a")
	if err != nil {
		b.Fatal(err)
	}
	release()
	b.ReportAllocs()
	for b.Loop() {
		_, release, err := env.Store.Acquire(ctx, "a")
		if err != nil {
			b.Fatal(err)
		}
		release()
	}
}

// BenchmarkStore_AcquireCold acquires a tenant that is not in the pool and
// runs a first query on it: with a pool of one cycling over many tenants,
// every iteration opens a database (catalog lookup, connection, pragmas,
// schema and version read) and closes the one it evicts.
func BenchmarkStore_AcquireCold(b *testing.B) {
	const tenants = 64
	ctx := context.Background()
	env := tenantstoretest.MustOpen(b, catalog.Config{}, tenantstore.Config{PoolSize: 1})
	ids := make([]string, tenants)
	for i := range ids {
		ids[i] = fmt.Sprintf("t%d", i)
		env.MustCreate(b, ids[i])
	}
	i := 0
	for b.Loop() {
		h, release, err := env.Store.Acquire(ctx, ids[i%tenants])
		if err != nil {
			b.Fatal(err)
		}
		var n int
		if err := h.Reader().QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
			b.Fatal(err)
		}
		release()
		i++
	}
}

package tenantstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/migrations/migrationstest"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// newStoreWithSet provisions tenants at the embedded schema and returns a
// second store over them whose migration set has one more step.
func newStoreWithSet(t *testing.T, set string, poolSize int, ids ...string) (*tenantstoretest.Env, *tenantstore.Store) {
	t.Helper()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
	env.MustCreate(t, ids...)
	st := tenantstore.New(env.Catalog, tenantstore.Config{DataDir: env.DataDir, PoolSize: poolSize, Migrations: migrationstest.Set(t, set)})
	t.Cleanup(func() { st.Close(context.Background()) })
	return env, st
}

func version(t *testing.T, st *tenantstore.Store, id string) uint {
	t.Helper()
	h, release, err := st.Acquire(context.Background(), id)
	if err != nil {
		t.Fatalf("acquire %s: %v", id, err)
	}
	defer release()
	v, _, err := migrations.Version(context.Background(), h.Reader())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestStore_Migrate(t *testing.T) {
	ctx := context.Background()
	const v2 = migrationstest.Version
	base := migrationstest.Base
	env, st := newStoreWithSet(t, "wordcount", 4, "pooled", "closed", "gone")
	if err := env.Catalog.SetSchemaTarget(ctx, base); err != nil { // keep Acquire from migrating
		t.Fatal(err)
	}
	h, release, err := st.Acquire(ctx, "pooled")
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	t.Run("ThroughThePool", func(t *testing.T) {
		from, err := st.Migrate(ctx, "pooled", v2)
		if err != nil || from != base {
			t.Fatalf("Migrate = %d, %v; want from %d", from, err, base)
		}
		// The handle held across the migration sees the new schema.
		if _, err := h.Reader().Exec("SELECT word_count FROM content"); err != nil {
			t.Errorf("held handle after migration: %v", err)
		}
	})
	t.Run("OutsideThePool", func(t *testing.T) {
		if from, err := st.Migrate(ctx, "closed", v2); err != nil || from != base {
			t.Fatalf("Migrate = %d, %v; want from %d", from, err, base)
		}
		if got := st.Stats().Open; got != 1 {
			t.Errorf("pool holds %d handles, want 1: a migration must not pool its tenant", got)
		}
	})
	t.Run("AgainIsANoOp", func(t *testing.T) {
		if from, err := st.Migrate(ctx, "closed", v2); err != nil || from != v2 {
			t.Fatalf("Migrate = %d, %v; want from %d", from, err, v2)
		}
	})
	t.Run("Down", func(t *testing.T) {
		for _, id := range []string{"pooled", "closed"} {
			if from, err := st.Migrate(ctx, id, base); err != nil || from != v2 {
				t.Fatalf("Migrate(%s, %d) = %d, %v", id, base, from, err)
			}
			ten, _ := env.Catalog.Lookup(ctx, id)
			if ten.Schema.Version != base || ten.Schema.MigratedAt == nil {
				t.Errorf("catalog of %s = %+v", id, ten.Schema)
			}
		}
	})
	t.Run("Refused", func(t *testing.T) {
		if _, err := env.Catalog.SetStatus(ctx, "gone", catalog.StatusArchived); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			id   string
			v    uint
			code string
		}{
			{"nobody", v2, condo.ENOTFOUND},
			{"../etc", v2, condo.EINVALID},
			{"closed", 50, condo.EINVALID},
			{"closed", 999, condo.EINVALID},
			{"gone", v2, condo.EGONE},
		} {
			if _, err := st.Migrate(ctx, tc.id, tc.v); condo.ErrorCode(err) != tc.code {
				t.Errorf("Migrate(%q, %d) = %v, want %s", tc.id, tc.v, err, tc.code)
			}
		}
	})
}

// Migrate-on-open goes no further than the fleet's target, and a tenant
// created after a rollback starts at the fleet's version.
func TestStore_FleetTarget(t *testing.T) {
	ctx := context.Background()
	base := migrationstest.Base
	env, st := newStoreWithSet(t, "wordcount", 4, "a", "b")
	if err := env.Catalog.SetSchemaTarget(ctx, base); err != nil {
		t.Fatal(err)
	}
	if got := version(t, st, "a"); got != base {
		t.Errorf("opened under target %d: version %d", base, got)
	}
	if _, err := st.Create(ctx, catalog.NewTenant{ID: "new"}); err != nil {
		t.Fatal(err)
	}
	if ten, _ := env.Catalog.Lookup(ctx, "new"); ten.Schema.Version != base || version(t, st, "new") != base {
		t.Errorf("tenant created under target %d: catalog %+v", base, ten.Schema)
	}
	if err := env.Catalog.ClearSchemaTarget(ctx); err != nil {
		t.Fatal(err)
	}
	if got := version(t, st, "b"); got != migrationstest.Version {
		t.Errorf("opened without a target: version %d, want %d", got, migrationstest.Version)
	}
}

// Requests opening tenants (which migrates them on open) and a fleet-like
// sweep of Migrate calls race over the same tenants: every migration runs
// once (the step adds a column, so a second run would fail), and no
// request fails.
func TestStore_MigrateBesideAcquire(t *testing.T) {
	ctx := context.Background()
	var ids []string
	for i := range 24 {
		ids = append(ids, fmt.Sprintf("t%02d", i))
	}
	// A pool of 8 for 24 tenants churns (handles are evicted while in use),
	// and 4 concurrent openings never reach its cap of 16 (a pool of 4 could:
	// 4 pooled + 4 opening is its cap of 8, a legitimate 503).
	env, st := newStoreWithSet(t, "wordcount", 8, ids...)
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := range 4 { // requests
		wg.Go(func() {
			for round := range 3 {
				for i := range ids {
					id := ids[(i+w*5+round)%len(ids)]
					h, release, err := st.Acquire(ctx, id)
					if err != nil {
						errs <- fmt.Errorf("acquire %s: %w", id, err)
						continue
					}
					var n int
					if err := h.Reader().QueryRow("SELECT count(*) FROM content").Scan(&n); err != nil {
						errs <- fmt.Errorf("read %s: %w", id, err)
					}
					release()
				}
			}
		})
	}
	for w := range 2 { // the fleet
		wg.Go(func() {
			for i := w; i < len(ids); i += 2 {
				if _, err := st.Migrate(ctx, ids[i], migrationstest.Version); err != nil {
					errs <- fmt.Errorf("migrate %s: %w", ids[i], err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, id := range ids {
		ten, err := env.Catalog.Lookup(ctx, id)
		if err != nil || ten.Schema.Version != migrationstest.Version || ten.Schema.Dirty || ten.Schema.Error != "" {
			t.Errorf("%s: %+v, %v", id, ten.Schema, err)
		}
		if got := version(t, st, id); got != migrationstest.Version {
			t.Errorf("%s on disk: %d", id, got)
		}
	}
}

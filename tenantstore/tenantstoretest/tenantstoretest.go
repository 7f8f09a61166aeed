// Package tenantstoretest builds real catalogs and tenant stores in test
// directories for other packages' tests.
package tenantstoretest

import (
	"context"
	"testing"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/plans"
	"github.com/condohq/condo/tenantstore"
)

// Env is a data directory with its catalog and store open.
type Env struct {
	DataDir string
	Catalog *catalog.Catalog
	Store   *tenantstore.Store
}

// MustOpen opens a catalog and a store in a fresh temporary data directory
// and closes both when the test ends.
func MustOpen(tb testing.TB, cc catalog.Config, sc tenantstore.Config) *Env {
	tb.Helper()
	dir := tb.TempDir()
	if cc.Plans == nil {
		// Tests send one tenant more requests than a plan's rate allows;
		// those of the rate limit set their own plans.
		cc.Plans = plans.Builtin().Unmetered()
	}
	cat, err := catalog.Open(context.Background(), dir, cc)
	if err != nil {
		tb.Fatal(err)
	}
	sc.DataDir = dir
	st := tenantstore.New(cat, sc)
	tb.Cleanup(func() {
		if err := st.Close(context.Background()); err != nil {
			tb.Error(err)
		}
		cat.Close()
	})
	return &Env{DataDir: dir, Catalog: cat, Store: st}
}

// MustCreate provisions tenants with default settings.
func (e *Env) MustCreate(tb testing.TB, ids ...string) {
	tb.Helper()
	for _, id := range ids {
		if _, err := e.Store.Create(context.Background(), catalog.NewTenant{ID: id}); err != nil {
			tb.Fatal(err)
		}
	}
}

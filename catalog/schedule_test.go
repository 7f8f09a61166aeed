package catalog_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/condohq/condo/catalog"
)

// With one control plane for all regions, a node's scheduler is given the
// tenants of its own region (and those without one), never another's.
func TestCatalog_DueTenantsOfRegion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	all := mustOpen(t, dir, catalog.Config{})
	ams := mustOpen(t, dir, catalog.Config{Region: "ams"})
	past := time.Now().Add(-time.Minute)
	for id, region := range map[string]string{"here": "ams", "there": "iad", "nowhere": ""} {
		if _, err := all.CreateTenant(ctx, catalog.NewTenant{ID: id, Region: region}, nil); err != nil {
			t.Fatal(err)
		}
		if err := all.SetContentDue(ctx, id, &past); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(c *catalog.Catalog) []string {
		due, err := c.DueTenants(ctx, time.Now(), 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range due {
			out = append(out, d.TenantID)
		}
		slices.Sort(out)
		return out
	}
	if got := ids(ams); !slices.Equal(got, []string{"here", "nowhere"}) {
		t.Errorf("due at an ams node: %v", got)
	}
	if got := ids(all); !slices.Equal(got, []string{"here", "nowhere", "there"}) {
		t.Errorf("due at a node without a region: %v", got)
	}
}

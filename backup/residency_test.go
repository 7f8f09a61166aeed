package backup_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/backup"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/metrics"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// A tenant whose residency excludes the backup store's region is never
// sent there; another tenant is. The process's metrics carry no tenant.
func TestResidency_RefusesOtherRegions(t *testing.T) {
	dir := t.TempDir()
	env := tenantstoretest.MustOpen(t, catalog.Config{Region: "ams", ResidencySets: catalog.ResidencySets{"eu": {"ams", "fra"}}}, tenantstore.Config{})
	rep, err := backup.New(backup.Config{URL: "file://" + dir, Region: "iad", Catalog: env.Catalog, MonitorInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer rep.Close(context.Background())
	// A second store over the same directory, with the replicator.
	store := tenantstore.New(env.Catalog, tenantstore.Config{DataDir: env.DataDir, Backups: rep})
	defer store.Close(context.Background())
	ctx := context.Background()
	for _, in := range []catalog.NewTenant{{ID: "eu-shop", Region: "ams", Residency: "eu"}, {ID: "anywhere", Region: "ams"}} {
		if _, err := store.Create(ctx, in); err != nil {
			t.Fatal(err)
		}
		h, release, err := store.Acquire(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		h.Writer().Exec(`CREATE TABLE notes (body TEXT)`)
		release()
	}
	waitSynced(t, rep, "anywhere")
	deadline := time.Now().Add(10 * time.Second)
	for rep.Status("eu-shop").Error == "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if st := rep.Status("eu-shop"); st.Replicating || !strings.Contains(st.Error, "outside residency") {
		t.Fatalf("eu-shop: %+v", st)
	}
	if p, err := rep.List(ctx, "eu-shop"); err != nil || p.Earliest != nil {
		t.Fatalf("eu-shop's bytes reached the store: %+v %v", p, err)
	}
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "condo_backup_") {
			continue
		}
		seen++
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) > 0 {
				t.Errorf("%s has labels %v", f.GetName(), m.GetLabel())
			}
		}
	}
	if seen != 4 {
		t.Errorf("%d condo_backup_ metrics, want 4", seen)
	}
}

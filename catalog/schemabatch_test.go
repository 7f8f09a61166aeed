package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// A batch of outcomes is one transaction: the run's counts move with the
// tenants' states, all or nothing.
func TestCatalog_RecordSchemas(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{})
	for _, id := range []string{"a", "b", "c"} {
		mustCreate(t, c, id)
	}
	now := time.Now()
	run := &catalog.MigrationRun{ID: "r", Direction: "up", Target: 2, Status: catalog.RunRunning, StartedAt: now, HeartbeatAt: now,
		Concurrency: 1, Owner: catalog.RunOwner{PID: 1, Host: "h", Token: "t"}}
	if err := c.BeginRun(ctx, run, func(catalog.MigrationRun) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSchemaPendings(ctx, []string{"a", "b", "c"}, 2); err != nil {
		t.Fatal(err)
	}
	pending := func() map[string]bool {
		ts, err := c.SchemaTenants(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, st := range ts {
			out[st.ID] = st.Pending != nil
		}
		return out
	}
	if got := pending(); !got["a"] || !got["b"] || !got["c"] {
		t.Fatalf("pending = %v, want all three", got)
	}
	err := c.RecordSchemas(ctx, "r", []catalog.SchemaRecord{
		{TenantID: "a", State: &catalog.SchemaState{Version: 2}, Count: catalog.RunCount{Migrated: 1}},
		{TenantID: "b", State: &catalog.SchemaState{Version: 1, Error: "boom"}, Count: catalog.RunCount{Failed: 1,
			Failures: []catalog.RunFailure{{TenantID: "b", Version: 1, Error: "boom"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A batch naming a tenant that is gone writes nothing at all.
	err = c.RecordSchemas(ctx, "r", []catalog.SchemaRecord{
		{TenantID: "c", State: &catalog.SchemaState{Version: 2}, Count: catalog.RunCount{Migrated: 1}},
		{TenantID: "gone", State: &catalog.SchemaState{Version: 2}, Count: catalog.RunCount{Migrated: 1}},
	})
	if condo.ErrorReason(err) != "tenant_not_found" {
		t.Errorf("batch with a missing tenant: %v, want tenant_not_found", err)
	}
	got, err := c.Run(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if got.Migrated != 1 || got.Failed != 1 || len(got.Failures) != 1 || got.Failures[0].TenantID != "b" {
		t.Errorf("run = migrated %d failed %d failures %+v, want 1, 1, b", got.Migrated, got.Failed, got.Failures)
	}
	for id, want := range map[string]uint{"a": 2, "b": 1, "c": 0} {
		ten, err := c.Lookup(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ten.Schema.Version != want {
			t.Errorf("%s at %d, want %d", id, ten.Schema.Version, want)
		}
	}
	// Recording clears the pending mark; c, never recorded, keeps it.
	if got := pending(); got["a"] || got["b"] || !got["c"] {
		t.Errorf("pending = %v, want only c", got)
	}
}

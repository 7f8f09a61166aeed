package catalog_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

func TestCatalog_SchemaStatus(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{})
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		mustCreate(t, c, id)
	}
	now := time.Now()
	for id, st := range map[string]catalog.SchemaState{
		"a": {Version: 2},
		"b": {Version: 2},
		"c": {Version: 1, Error: "UNIQUE constraint failed"},
		"d": {Version: 2, Dirty: true, Error: "dirty at 2"},
		"e": {Version: 1},
		"f": {Version: 1, Error: "archived meanwhile"},
	} {
		st.MigratedAt = &now
		if err := c.SetSchemaState(ctx, id, st); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.SetStatus(ctx, "f", catalog.StatusArchived); err != nil {
		t.Fatal(err)
	}
	st, err := c.SchemaStatus(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []catalog.VersionCount{{Version: 1, Tenants: 2, Failing: 1}, {Version: 2, Tenants: 3, Dirty: 1}}
	if !slices.Equal(st.Versions, want) || st.Tenants != 5 || st.Archived != 1 || st.ProblemCount != 2 {
		t.Errorf("status = %+v, want versions %+v", st, want)
	}
	if len(st.Problems) != 2 || st.Problems[0].TenantID != "d" || !st.Problems[0].Schema.Dirty || st.Problems[1].TenantID != "c" {
		t.Errorf("problems = %+v, want d (dirty) then c", st.Problems)
	}
	if st, _ := c.SchemaStatus(ctx, 1); len(st.Problems) != 1 || st.ProblemCount != 2 {
		t.Errorf("limited problems = %+v", st.Problems)
	}

	t.Run("Pending", func(t *testing.T) {
		if err := c.SetSchemaPending(ctx, "e", 2); err != nil {
			t.Fatal(err)
		}
		pending := func() map[string]uint {
			ts, err := c.SchemaTenants(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]uint{}
			for _, ten := range ts {
				if ten.ID == "f" {
					t.Errorf("SchemaTenants lists an archived tenant")
				}
				if ten.Pending != nil {
					out[ten.ID] = *ten.Pending
				}
			}
			return out
		}
		if got := pending(); len(got) != 1 || got["e"] != 2 {
			t.Errorf("pending = %v, want e: 2", got)
		}
		if err := c.SetSchemaState(ctx, "e", catalog.SchemaState{Version: 2}); err != nil {
			t.Fatal(err)
		}
		if got := pending(); len(got) != 0 {
			t.Errorf("pending after the outcome was recorded = %v", got)
		}
		if err := c.SetSchemaPending(ctx, "nobody", 2); condo.ErrorCode(err) != condo.ENOTFOUND {
			t.Errorf("pending of an unknown tenant: %v", err)
		}
	})

	t.Run("Target", func(t *testing.T) {
		if _, ok, err := c.SchemaTarget(ctx); ok || err != nil {
			t.Fatalf("target before any: %v, %v", ok, err)
		}
		for _, v := range []uint{3, 1} {
			if err := c.SetSchemaTarget(ctx, v); err != nil {
				t.Fatal(err)
			}
			if got, ok, err := c.SchemaTarget(ctx); got != v || !ok || err != nil {
				t.Errorf("target = %d, %v, %v; want %d", got, ok, err, v)
			}
		}
		if err := c.ClearSchemaTarget(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := c.SchemaTarget(ctx); ok {
			t.Errorf("target still set after clearing")
		}
	})
}

func TestCatalog_Runs(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{})
	alive := func(catalog.MigrationRun) bool { return true }
	dead := func(catalog.MigrationRun) bool { return false }
	newRun := func(id string, at time.Time) *catalog.MigrationRun {
		return &catalog.MigrationRun{ID: id, Direction: "up", Target: 2, Status: catalog.RunRunning, StartedAt: at, HeartbeatAt: at,
			Concurrency: 2, Canary: 5, MaxFailures: 10, Owner: catalog.RunOwner{PID: 42, Host: "h", Token: "tok"}}
	}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	first := newRun("r1", t0)
	if err := c.BeginRun(ctx, first, alive); err != nil {
		t.Fatal(err)
	}
	if err := c.BeginRun(ctx, newRun("r2", t0.Add(time.Minute)), alive); condo.ErrorReason(err) != "run_in_progress" {
		t.Fatalf("second run while the first is alive: %v, want run_in_progress", err)
	}
	first.Total = 10
	if err := c.UpdateRun(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := c.CountRun(ctx, "r1", catalog.RunCount{Migrated: 3, Failed: 1,
		Failures: []catalog.RunFailure{{TenantID: "x", Version: 1, Error: "boom"}}}); err != nil {
		t.Fatal(err)
	}
	// The first run's owner died: the next run interrupts it and begins.
	if err := c.BeginRun(ctx, newRun("r2", t0.Add(time.Minute)), dead); err != nil {
		t.Fatal(err)
	}
	got, err := c.Run(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != catalog.RunInterrupted || got.FinishedAt == nil || got.Error == "" || got.Migrated != 3 ||
		len(got.Failures) != 1 || got.Failures[0].TenantID != "x" || got.Owner.Token != "tok" {
		t.Errorf("interrupted run = %+v", got)
	}
	if n, err := c.InterruptStaleRuns(ctx, alive); n != 0 || err != nil {
		t.Errorf("InterruptStaleRuns(alive) = %d, %v", n, err)
	}
	if n, err := c.InterruptStaleRuns(ctx, dead); n != 1 || err != nil {
		t.Errorf("InterruptStaleRuns(dead) = %d, %v; want 1", n, err)
	}
	runs, err := c.Runs(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID != "r2" || runs[1].ID != "r1" || !runs[0].StartedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("runs = %+v, want r2 then r1", runs)
	}
	if _, err := c.Run(ctx, "nope"); condo.ErrorCode(err) != condo.ENOTFOUND {
		t.Errorf("unknown run: %v", err)
	}
}

// BenchmarkCatalog_SchemaStatus reads the status of 10,000 tenants (the
// issue's target is under a second; it takes milliseconds).
func BenchmarkCatalog_SchemaStatus(b *testing.B) {
	ctx := context.Background()
	c := mustOpen(b, b.TempDir(), catalog.Config{})
	for i := range 10_000 {
		id := fmt.Sprintf("t%05d", i)
		mustCreate(b, c, id)
		st := catalog.SchemaState{Version: uint(1 + i%3)}
		if i%500 == 0 {
			st.Error = "UNIQUE constraint failed"
		}
		if err := c.SetSchemaState(ctx, id, st); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		st, err := c.SchemaStatus(ctx, 100)
		if err != nil || st.Tenants != 10_000 {
			b.Fatal(st, err)
		}
	}
}

// RecordSchema writes a tenant's state and its run's count together; the
// stored failures stop at MaxRunFailures while the count goes on.
func TestCatalog_RecordSchema(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{})
	mustCreate(t, c, "a")
	now := time.Now()
	run := &catalog.MigrationRun{ID: "r", Direction: "up", Target: 2, Status: catalog.RunRunning, StartedAt: now, HeartbeatAt: now,
		Concurrency: 1, Owner: catalog.RunOwner{PID: 1, Host: "h", Token: "t"}}
	if err := c.BeginRun(ctx, run, func(catalog.MigrationRun) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if err := c.RecordSchema(ctx, "a", &catalog.SchemaState{Version: 2}, "r", catalog.RunCount{Migrated: 1}); err != nil {
		t.Fatal(err)
	}
	for i := range catalog.MaxRunFailures + 5 {
		f := catalog.RunFailure{TenantID: fmt.Sprint("f", i), Error: "boom"}
		if err := c.CountRun(ctx, "r", catalog.RunCount{Failed: 1, Failures: []catalog.RunFailure{f}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Run(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if got.Migrated != 1 || got.Failed != catalog.MaxRunFailures+5 || len(got.Failures) != catalog.MaxRunFailures || got.Failures[0].TenantID != "f0" {
		t.Errorf("run = migrated %d failed %d with %d failures", got.Migrated, got.Failed, len(got.Failures))
	}
	if ten, err := c.Lookup(ctx, "a"); err != nil || ten.Schema.Version != 2 {
		t.Errorf("tenant schema = %+v (%v), want version 2", ten.Schema, err)
	}
	// One transaction: an unknown run leaves the tenant's state alone too.
	err = c.RecordSchema(ctx, "a", &catalog.SchemaState{Version: 1}, "nope", catalog.RunCount{Migrated: 1})
	if condo.ErrorReason(err) != "run_not_found" {
		t.Errorf("unknown run: %v", err)
	}
	if ten, _ := c.Lookup(ctx, "a"); ten.Schema.Version != 2 {
		t.Errorf("tenant schema after a refused record = %d, want 2", ten.Schema.Version)
	}
}

// With a region, a node's fleet runs list the tenants homed in it (and
// those without a region), not another region's, whose files it lacks.
func TestSchemaTenants_OwnRegion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := mustOpen(t, dir, catalog.Config{})
	for id, region := range map[string]string{"here": "ams", "there": "iad", "nowhere": ""} {
		if _, err := c.CreateTenant(ctx, catalog.NewTenant{ID: id, Region: region}, nil); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	ams := mustOpen(t, dir, catalog.Config{Region: "ams"})
	ts, err := ams.SchemaTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, st := range ts {
		ids = append(ids, st.ID)
	}
	if strings.Join(ids, " ") != "here nowhere" {
		t.Fatalf("an ams node's fleet: %v", ids)
	}
}

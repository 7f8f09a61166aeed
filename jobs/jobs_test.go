package jobs_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/fleet"
	"github.com/condohq/condo/jobs"
	"github.com/condohq/condo/migrations/migrationstest"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// newJobs returns unstarted jobs over n tenants provisioned at the
// embedded schema, whose store has one more migration step.
func newJobs(t *testing.T, n int) (*jobs.Jobs, *tenantstoretest.Env, *tenantstore.Store) {
	t.Helper()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
	for i := range n {
		env.MustCreate(t, fmt.Sprintf("t%03d", i))
	}
	store := tenantstore.New(env.Catalog, tenantstore.Config{DataDir: env.DataDir, PoolSize: 4, Migrations: migrationstest.Set(t, "wordcount")})
	t.Cleanup(func() { store.Close(context.Background()) })
	return jobs.New(env.Catalog, store, jobs.Config{}), env, store
}

func TestJobs_Loops(t *testing.T) {
	j, _, _ := newJobs(t, 0)
	var running, stopped atomic.Int32
	started := make(chan struct{}, 2)
	for range 2 {
		j.Loop(func(ctx context.Context) {
			running.Add(1)
			started <- struct{}{}
			<-ctx.Done()
			stopped.Add(1)
		})
	}
	if err := j.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := j.Start(context.Background()); err == nil {
		t.Error("a second Start succeeded")
	}
	<-started
	<-started
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Close returns only once every loop has returned.
	if got, want := stopped.Load(), int32(2); got != want {
		t.Errorf("%d loops stopped by Close, want %d", got, want)
	}
}

// A Start whose context is cancelled does not end the jobs: only Close
// does, so serve stops them after the last request, not at the signal.
func TestJobs_StartContextDoesNotStop(t *testing.T) {
	j, _, _ := newJobs(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	var done atomic.Bool
	j.Loop(func(ctx context.Context) { <-ctx.Done(); done.Store(true) })
	if err := j.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if done.Load() {
		t.Error("the loop ended with Start's context")
	}
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !done.Load() {
		t.Error("the loop did not end at Close")
	}
}

func TestJobs_StartMigration(t *testing.T) {
	ctx := context.Background()
	j, env, store := newJobs(t, 6)

	// Before Start and after Close, nothing runs.
	if _, err := j.StartMigration(ctx, fleet.DefaultOptions()); condo.ErrorReason(err) != "shutting_down" {
		t.Errorf("before Start: %v, want shutting_down", err)
	}
	if err := j.Start(ctx); err != nil {
		t.Fatal(err)
	}
	run, err := j.StartMigration(ctx, fleet.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if run.ID == "" {
		t.Fatal("no run id")
	}
	// Close waits for the run: afterwards it is recorded as finished,
	// succeeded or interrupted, never left running.
	if err := j.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rec, err := j.MigrationRun(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status == catalog.RunRunning {
		t.Errorf("run still running after Close: %+v", rec)
	}
	// The counts match the tenants' recorded state.
	st, err := env.Catalog.SchemaStatus(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	atTarget := 0
	for _, v := range st.Versions {
		if v.Version == store.Migrations().Latest() {
			atTarget = v.Tenants
		}
	}
	if got, want := rec.Migrated, atTarget; got != want {
		t.Errorf("run migrated %d, catalog has %d tenants at the target", got, want)
	}
	if _, err := j.StartMigration(ctx, fleet.DefaultOptions()); condo.ErrorReason(err) != "shutting_down" {
		t.Errorf("after Close: %v, want shutting_down", err)
	}
}

// Only one run is live in a server at a time.
func TestJobs_OneRunAtATime(t *testing.T) {
	ctx := context.Background()
	j, _, _ := newJobs(t, 20)
	if err := j.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close(ctx) })
	first, err := j.StartMigration(ctx, fleet.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	_, err = j.StartMigration(ctx, fleet.DefaultOptions())
	if err == nil {
		// The first run may have finished already; it must not be live.
		rec, lerr := j.MigrationRun(ctx, first.ID)
		if lerr != nil || rec.Status == catalog.RunRunning {
			t.Errorf("a second run started beside a live one: %+v %v", rec, lerr)
		}
	} else if condo.ErrorReason(err) != "run_in_progress" {
		t.Errorf("second run: %v, want run_in_progress", err)
	}
	st, err := j.MigrationStatus(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Runs) == 0 || st.Runs[len(st.Runs)-1].ID != first.ID {
		t.Errorf("status runs = %+v, want the first run among them", st.Runs)
	}
}

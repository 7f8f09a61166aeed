package lifecycle_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/lifecycle"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// Every lifecycle operation is a job in the catalog, written through
// catalog.Track: kind, tenant, actor, its end, and the error of one that
// failed.
func TestLifecycleOperationsAreJobs(t *testing.T) {
	ctx := catalog.WithActor(context.Background(), "admin:ops@example.com")
	env := tenantstoretest.MustOpen(t, catalog.Config{}, storeConfig())
	env.MustCreate(t, "jobbed")
	fill(t, env, "jobbed")
	archive := export(t, env, "jobbed")

	ops := []struct {
		kind, tenant string
		run          func() error
		fails        string // part of the recorded error; "" succeeds
	}{
		{catalog.JobArchive, "jobbed", func() error { _, err := lifecycle.Archive(ctx, env.Catalog, env.Store, "jobbed", "test"); return err }, ""},
		{catalog.JobArchive, "jobbed", func() error { _, err := lifecycle.Archive(ctx, env.Catalog, env.Store, "jobbed", "test"); return err }, "archived already"},
		{catalog.JobRestore, "jobbed", func() error { _, err := lifecycle.Restore(ctx, env.Catalog, env.Store, "jobbed"); return err }, ""},
		{catalog.JobRestore, "jobbed", func() error { _, err := lifecycle.Restore(ctx, env.Catalog, env.Store, "jobbed"); return err }, "not archived"},
		{catalog.JobImport, "copy", func() error {
			_, err := lifecycle.Import(ctx, env.Catalog, env.Store, bytes.NewReader(archive), lifecycle.ImportOptions{ID: "copy"})
			return err
		}, ""},
		{catalog.JobImport, "copy", func() error {
			_, err := lifecycle.Import(ctx, env.Catalog, env.Store, bytes.NewReader(archive), lifecycle.ImportOptions{ID: "copy"})
			return err
		}, "exists"},
		{catalog.JobImport, "", func() error { // not an archive: the tenant is never known
			_, err := lifecycle.Import(ctx, env.Catalog, env.Store, strings.NewReader("not an archive"), lifecycle.ImportOptions{})
			return err
		}, "not a Condo tenant export"},
		{catalog.JobImportReplace, "copy", func() error {
			_, err := lifecycle.Import(ctx, env.Catalog, env.Store, bytes.NewReader(archive), lifecycle.ImportOptions{ID: "copy", Replace: true})
			return err
		}, ""},
		{catalog.JobDelete, "copy", func() error { _, err := lifecycle.Delete(ctx, env.Catalog, env.Store, "copy", "test"); return err }, ""},
		{catalog.JobDelete, "nobody", func() error { _, err := lifecycle.Delete(ctx, env.Catalog, env.Store, "nobody", "test"); return err }, "not found"},
	}
	for i, op := range ops {
		err := op.run()
		if (err != nil) != (op.fails != "") {
			t.Fatalf("op %d (%s): %v", i, op.kind, err)
		}
		jobs, lerr := env.Catalog.LifecycleJobs(ctx, "", "", 1)
		if lerr != nil || len(jobs) != 1 {
			t.Fatalf("op %d: jobs %v %v", i, jobs, lerr)
		}
		j := jobs[0]
		if j.Kind != op.kind || j.TenantID != op.tenant || j.Actor != "admin:ops@example.com" || j.FinishedAt == nil {
			t.Errorf("op %d: job %+v", i, j)
		}
		if op.fails == "" && (j.State != catalog.JobSucceeded || j.Error != "") {
			t.Errorf("op %d (%s): state %s error %q", i, op.kind, j.State, j.Error)
		}
		if op.fails != "" && (j.State != catalog.JobFailed || !strings.Contains(j.Error, op.fails) || j.Error != err.Error()) {
			t.Errorf("op %d (%s): state %s error %q, want failed with %q (%v)", i, op.kind, j.State, j.Error, op.fails, err)
		}
	}
	// The listing of all jobs carries them, by kind and by tenant.
	all, err := env.Catalog.FindJobs(ctx, catalog.JobFilter{TenantID: "jobbed"})
	if err != nil || len(all) != 4 {
		t.Fatalf("jobbed's jobs: %d %v", len(all), err)
	}
	deletes, err := env.Catalog.FindJobs(ctx, catalog.JobFilter{Kind: catalog.JobDelete})
	if err != nil || len(deletes) != 2 || deletes[0].Kind != catalog.JobDelete {
		t.Fatalf("delete jobs: %+v %v", deletes, err)
	}
}

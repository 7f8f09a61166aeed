package lifecycle_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/lifecycle"
	"github.com/condohq/condo/migrations/migrationstest"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// Archive then restore gives back every row and media byte; while
// archived the tenant answers 410 and has no live files; a restore by a
// binary one migration ahead migrates it up.
func TestArchiveRestore_RoundTrip(t *testing.T) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, storeConfig())
	env.MustCreate(t, "sleepy", "awake")
	fill(t, env, "sleepy")
	want := dump(t, env, "sleepy")
	if _, release, err := env.Store.Acquire(ctx, "sleepy"); err != nil { // open in the pool: archive takes it out
		t.Fatal(err)
	} else {
		release()
	}

	ta, err := lifecycle.Archive(ctx, env.Catalog, env.Store, "sleepy", "test")
	if err != nil {
		t.Fatal(err)
	}
	if ta.Status != catalog.StatusArchived {
		t.Fatalf("status %s", ta.Status)
	}
	if _, err := os.Stat(filepath.Join(env.DataDir, "tenants", "sleepy")); !os.IsNotExist(err) {
		t.Fatal("live files remain after archiving")
	}
	if _, err := os.Stat(env.Store.ArchivePath("sleepy")); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Catalog.ResolveHost(ctx, "sleepy.localhost", ""); condo.ErrorReason(err) != "tenant_archived" {
		t.Fatalf("an archived tenant's host: %v", err)
	}
	if _, _, err := env.Store.Acquire(ctx, "sleepy"); condo.ErrorReason(err) != "tenant_archived" {
		t.Fatalf("acquire of an archived tenant: %v", err)
	}
	if _, err := lifecycle.Archive(ctx, env.Catalog, env.Store, "sleepy", "test"); condo.ErrorReason(err) != "already_archived" {
		t.Fatalf("archive twice: %v", err)
	}
	if _, err := lifecycle.Restore(ctx, env.Catalog, env.Store, "awake"); condo.ErrorReason(err) != "not_archived" {
		t.Fatalf("restore of an active tenant: %v", err)
	}

	if _, err := lifecycle.Restore(ctx, env.Catalog, env.Store, "sleepy"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(env.Store.ArchivePath("sleepy"))); !os.IsNotExist(err) {
		t.Fatal("the archive remains after the restore")
	}
	if got := dump(t, env, "sleepy"); !equalDumps(t, got, want) {
		t.Fatal("the restored tenant differs")
	}

	// The fleet moved on while it slept: a binary with one more step
	// restores it at the new version.
	if _, err := lifecycle.Archive(ctx, env.Catalog, env.Store, "sleepy", "test"); err != nil {
		t.Fatal(err)
	}
	newer := migrationstest.Set(t, "wordcount")
	store := tenantstore.New(env.Catalog, tenantstore.Config{DataDir: env.DataDir, Migrations: newer})
	defer store.Close(ctx)
	tr, err := lifecycle.Restore(ctx, env.Catalog, store, "sleepy")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status != catalog.StatusActive || tr.Schema.Version != newer.Latest() {
		t.Fatalf("restored: %s at %d", tr.Status, tr.Schema.Version)
	}
}

// A damaged archive is refused by restore, and the tenant stays archived
// with its archive untouched.
func TestRestore_DamagedArchive(t *testing.T) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, storeConfig())
	env.MustCreate(t, "x")
	if _, err := lifecycle.Archive(ctx, env.Catalog, env.Store, "x", "test"); err != nil {
		t.Fatal(err)
	}
	path := env.Store.ArchivePath("x")
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-100], 0o640)
	if _, err := lifecycle.Restore(ctx, env.Catalog, env.Store, "x"); condo.ErrorReason(err) != "invalid_import" {
		t.Fatalf("restore of a damaged archive: %v", err)
	}
	if tn, _ := env.Catalog.Tenant(ctx, "x"); tn.Status != catalog.StatusArchived {
		t.Fatalf("status after a refused restore: %s", tn.Status)
	}
	if _, err := os.Stat(filepath.Join(env.DataDir, "tenants", "x")); !os.IsNotExist(err) {
		t.Fatal("a refused restore left live files")
	}
	assertNoStaging(t, env.DataDir)
}

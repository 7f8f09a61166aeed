package lifecycle_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/backup"
	"github.com/condohq/condo/backup/backuptest"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/lifecycle"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// marker is personal data planted in every place a tenant's data can
// reach: its content, its media, its catalog record (branding), its
// outbox mail and its security events.
const marker = "Erika-Mustermann-4711"

func TestDelete_ErasesEverything(t *testing.T) {
	ctx := catalog.WithActor(context.Background(), "admin:dpo@example.com")
	// A real S3 server on loopback holds the tenants' continuous backups.
	s3 := backuptest.StartS3(t)
	rep, err := backup.New(backup.Config{URL: s3.URL("gdpr"), MonitorInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer rep.Close(context.Background())
	sc := storeConfig()
	sc.Backups = rep
	env := tenantstoretest.MustOpen(t, catalog.Config{}, sc)
	if _, err := env.Store.Create(ctx, catalog.NewTenant{ID: "acme", Domains: []string{"acme.example"},
		Branding: json.RawMessage(`{"name":"` + marker + `"}`)}); err != nil {
		t.Fatal(err)
	}
	env.MustCreate(t, "acme-2") // an id that starts with the deleted one's: untouched
	fill(t, env, "acme")
	h, release, err := env.Store.Acquire(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	st := cms.New("acme", h.DB, env.Store.MediaDir("acme"))
	col, _ := st.Collection(ctx, "posts")
	if _, err := st.CreateItem(ctx, col, cms.ItemInput{Title: marker, Data: map[string]any{"body": marker}}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Upload(ctx, cms.Upload{Name: "cv.txt", Body: strings.NewReader("curriculum vitae of " + marker), Quota: 1 << 30}); err != nil {
		t.Fatal(err)
	}
	release()
	if ok, err := rep.Sync(ctx, "acme"); !ok || err != nil {
		t.Fatalf("backup sync: %v %v", ok, err)
	}
	if len(s3.Keys(t, "gdpr/acme/")) == 0 {
		t.Fatal("the tenant was never replicated: the check below would prove nothing")
	}
	if err := env.Catalog.StoreMail(ctx, catalog.OutboxMessage{ID: condo.NewID(), TenantID: "acme", To: "erika@example.com", Subject: "Hello " + marker, Body: marker}); err != nil {
		t.Fatal(err)
	}
	if err := env.Catalog.RecordSecurityEvent(ctx, &catalog.SecurityEvent{TenantID: "acme", Kind: "login_failed", Actor: marker}); err != nil {
		t.Fatal(err)
	}
	// Copies elsewhere in the data directory: an export in its archive
	// folder, a snapshot, an orphan of an interrupted create.
	var archive bytes.Buffer
	if _, err := lifecycle.Export(ctx, env.Catalog, env.Store, "acme", &archive, lifecycle.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"archive/acme/acme.tar.zst", "backups/acme/snap.db", "orphans/acme-1700000000/tenant.db"} {
		os.MkdirAll(filepath.Join(env.DataDir, filepath.Dir(p)), 0o750)
		os.WriteFile(filepath.Join(env.DataDir, p), append(archive.Bytes(), marker...), 0o640)
	}
	os.MkdirAll(filepath.Join(env.DataDir, "orphans", "acme-2-1700000000"), 0o750)

	ts, err := lifecycle.Delete(ctx, env.Catalog, env.Store, "acme", "GDPR request #42")
	if err != nil {
		t.Fatal(err)
	}
	if ts.State != catalog.TombstoneDeleted || ts.DeletedBy != "admin:dpo@example.com" || ts.Reason != "GDPR request #42" || ts.DeletedAt == nil {
		t.Fatalf("tombstone = %+v", ts)
	}
	env.Store.Close(ctx) // every handle closed, so every file is what is on disk
	env.Catalog.Close()

	// Nothing of the tenant on disk: no path names it, no byte holds the
	// marker (the catalog's deleted rows are zeroed, its WAL truncated).
	filepath.WalkDir(env.DataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(env.DataDir, p)
		for _, part := range strings.Split(rel, string(filepath.Separator)) {
			if part == "acme" || strings.HasPrefix(part, "acme-17") {
				t.Errorf("left behind: %s", rel)
			}
		}
		if d.Type().IsRegular() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(marker)) {
				t.Errorf("%s still holds the tenant's data", rel)
			}
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(env.DataDir, "orphans", "acme-2-1700000000")); err != nil {
		t.Error("another tenant's leftover was removed")
	}
	// Nothing of it in the object store either.
	for _, k := range s3.Keys(t, "") {
		if strings.HasPrefix(k, "gdpr/acme/") {
			t.Errorf("left in the backup store: %s", k)
		}
	}
}

func TestDelete_TombstoneAndPurge(t *testing.T) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, storeConfig())
	env.MustCreate(t, "gone", "kept")
	if _, err := lifecycle.Delete(ctx, env.Catalog, env.Store, "gone", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Catalog.ResolveHost(ctx, "gone.localhost", ""); condo.ErrorReason(err) != "tenant_deleted" {
		t.Fatalf("host of a deleted tenant: %v", err)
	}
	if _, err := env.Catalog.ResolveHost(ctx, "kept.localhost", ""); err != nil {
		t.Fatalf("the other tenant: %v", err)
	}
	if _, err := env.Store.Create(ctx, catalog.NewTenant{ID: "gone"}); condo.ErrorReason(err) != "tenant_deleted" {
		t.Fatalf("reuse before purge: %v", err)
	}
	if _, err := lifecycle.Delete(ctx, env.Catalog, env.Store, "gone", ""); condo.ErrorReason(err) != "tenant_deleted" {
		t.Fatalf("delete again: %v", err)
	}
	if err := env.Catalog.Purge(ctx, "kept"); condo.ErrorCode(err) != condo.ENOTFOUND {
		t.Fatalf("purge of a live tenant: %v", err)
	}
	if _, err := env.Catalog.ResolveHost(ctx, "gone.localhost", ""); condo.ErrorReason(err) != "tenant_deleted" {
		t.Fatalf("host of a deleted tenant, cached: %v", err)
	}
	if err := env.Catalog.Purge(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Catalog.ResolveHost(ctx, "gone.localhost", ""); condo.ErrorReason(err) != "tenant_not_found" {
		t.Fatalf("host of a purged tenant: %v", err)
	}
	if _, err := env.Store.Create(ctx, catalog.NewTenant{ID: "gone"}); err != nil {
		t.Fatalf("reuse after purge: %v", err)
	}
	// The audit trail kept who did what, without the records.
	entries, _ := env.Catalog.Audit(ctx, catalog.AuditFilter{TenantID: "gone", Limit: 100})
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if e.Action != "tenant.create" || e.Actor != "system" {
			continue
		}
		if entries[len(entries)-1].ID == e.ID && (e.After != nil || e.Before != nil) {
			t.Errorf("the first create's record survived the delete: %s", e.After)
		}
	}
	if got := strings.Join(actions, " "); got != "tenant.create tenant.purge tenant.delete tenant.delete_begin tenant.create" {
		t.Errorf("audit of gone: %s", got)
	}
}

// A delete stopped after its first step is finished by ResumeDeletes
// (what serve runs when it starts) or by running it again.
func TestDelete_Resumes(t *testing.T) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, storeConfig())
	env.MustCreate(t, "a", "b")
	for _, id := range []string{"a", "b"} {
		if _, err := env.Catalog.BeginDelete(ctx, id, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.Catalog.ResolveHost(ctx, "a.localhost", ""); condo.ErrorReason(err) != "tenant_suspended" {
		t.Fatalf("a tenant being deleted: %v", err)
	}
	if _, err := lifecycle.Delete(ctx, env.Catalog, env.Store, "a", "again"); err != nil {
		t.Fatal(err)
	}
	if n, err := lifecycle.ResumeDeletes(ctx, env.Catalog, env.Store); err != nil || n != 1 {
		t.Fatalf("resume: %d %v", n, err)
	}
	for _, id := range []string{"a", "b"} {
		if ts, err := env.Catalog.Tombstone(ctx, id); err != nil || ts.State != catalog.TombstoneDeleted {
			t.Errorf("%s: %+v %v", id, ts, err)
		}
		if _, err := os.Stat(filepath.Join(env.DataDir, "tenants", id)); err == nil {
			t.Errorf("%s's files remain", id)
		}
	}
}

package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/backup"
	"github.com/condohq/condo/backup/backuptest"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// newBackupAPI is newTenantAPI with a replicator to url behind the server.
func newBackupAPI(t *testing.T, url string) (*tenantAPI, *backup.Replicator) {
	t.Helper()
	rep, err := backup.New(backup.Config{URL: url, MonitorInterval: 100 * time.Millisecond, LagAlert: time.Second, CloseSync: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rep.Close(context.Background()) })
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 8, Backups: rep})
	if _, err := env.Catalog.CreateAdmin(context.Background(), apitest.AdminEmail, apitest.AdminPassword); err != nil {
		t.Fatal(err)
	}
	p := &tenantAPI{Env: env}
	p.srv, p.api = apitest.Serve(t, env.Catalog, env.Store, api.Config{Secret: apitest.Secret, Backups: rep})
	res := p.send(t, "POST", "/platform/auth/login", `{"email": "`+apitest.AdminEmail+`", "password": "`+apitest.AdminPassword+`"}`)
	json.Unmarshal(res.Body, &struct {
		Token *string `json:"token"`
	}{&p.token})
	return p, rep
}

func writeRows(t *testing.T, p *tenantAPI, id string, n int) {
	t.Helper()
	h, release, err := p.Store.Acquire(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	h.Writer().Exec(`CREATE TABLE IF NOT EXISTS notes (body TEXT)`)
	for i := 0; i < n; i++ {
		if _, err := h.Writer().Exec(`INSERT INTO notes VALUES ('x')`); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPlatformBackups(t *testing.T) {
	s3 := backuptest.StartS3(t)
	p, rep := newBackupAPI(t, s3.URL("api"))
	p.MustCreate(t, "acme")
	writeRows(t, p, "acme", 10)
	if _, err := rep.Sync(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	}

	var tenant struct {
		ID     string         `json:"id"`
		Backup *backup.Status `json:"backup"`
	}
	json.Unmarshal(mustTenantCall[json.RawMessage](t, p, http.StatusOK, "GET", "/platform/tenants/acme", ""), &tenant)
	if tenant.ID != "acme" || tenant.Backup == nil || !tenant.Backup.Replicating {
		t.Fatalf("tenant's backup status: %+v", tenant)
	}
	var list struct {
		Points backup.Points `json:"points"`
	}
	json.Unmarshal(mustTenantCall[json.RawMessage](t, p, http.StatusOK, "GET", "/platform/tenants/acme/backups", ""), &list)
	if list.Points.MaxTXID == 0 || list.Points.Latest == nil {
		t.Fatalf("restore points: %+v", list.Points)
	}
	var v backup.Verified
	json.Unmarshal(mustTenantCall[json.RawMessage](t, p, http.StatusOK, "POST", "/platform/tenants/acme/verify-backup", ""), &v)
	if !v.OK || v.Live == "" {
		t.Fatalf("verify: %+v", v)
	}
	var r backup.Restored
	json.Unmarshal(mustTenantCall[json.RawMessage](t, p, http.StatusOK, "POST", "/platform/tenants/acme/restore-backup", `{}`), &r)
	if r.Kept == "" || r.Checksum != v.Live {
		t.Fatalf("restore: %+v (live was %s)", r, v.Live)
	}

	runTenantFailures(t, p, []tenantCase{
		{"BadTimestamp", "POST", "/platform/tenants/acme/restore-backup", `{"timestamp": "yesterday"}`, 400, "invalid_timestamp"},
		{"BeforeFirstBackup", "POST", "/platform/tenants/acme/restore-backup", `{"timestamp": "2001-01-01T00:00:00Z"}`, 400, "no_restore_point"},
		{"UnknownField", "POST", "/platform/tenants/acme/restore-backup", `{"when": "now"}`, 400, "invalid_json"},
		{"NoTenant", "POST", "/platform/tenants/nobody/restore-backup", `{}`, 404, "tenant_not_found"},
		{"NoTenantList", "GET", "/platform/tenants/nobody/backups", ``, 404, "tenant_not_found"},
	})
}

func TestPlatformBackups_Unreachable(t *testing.T) {
	s3 := backuptest.StartS3(t)
	url := s3.URL("down")
	s3.Server.Close()
	p, rep := newBackupAPI(t, url)
	p.MustCreate(t, "acme")
	writeRows(t, p, "acme", 5) // writes keep working
	deadline := time.Now().Add(20 * time.Second)
	for !rep.Health().Degraded && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	r := p.send(t, "GET", "/readyz", "")
	var ready struct {
		Status  string        `json:"status"`
		Backups backup.Health `json:"backups"`
	}
	json.Unmarshal(r.Body, &ready)
	if r.Status != http.StatusOK || ready.Status != "degraded" || ready.Backups.Lagging != 1 || ready.Backups.MaxLag <= 0 {
		t.Fatalf("readyz: %d %s", r.Status, r.Body)
	}
	l := p.call(t, "GET", "/platform/tenants/acme/backups", "")
	if l.Status != http.StatusServiceUnavailable || l.Error.Code != "backup_unavailable" {
		t.Fatalf("list with the store down: %d %s", l.Status, l.Body)
	}
}

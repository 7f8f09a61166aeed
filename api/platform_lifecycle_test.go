package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/lifecycle"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// The platform API exports a tenant as a streamed archive and imports it
// back under a new id; bad archives and bad ids are 400s that create
// nothing.
func TestPlatform_ExportImport(t *testing.T) {
	p := newTenantAPI(t)
	p.call(t, "POST", "/platform/tenants", `{"id": "acme", "name": "Acme", "domains": ["acme.example"]}`)
	bearer := "Bearer " + p.token

	res, archive := apitest.Send(t, p.srv.URL, "GET", "localhost", "/platform/tenants/acme/export", p.token)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zstd" ||
		!strings.Contains(res.Header.Get("Content-Disposition"), `filename="acme-`) || len(archive) < 100 {
		t.Fatalf("export: %d %v, %d bytes", res.StatusCode, res.Header, len(archive))
	}
	if r := p.call(t, "GET", "/platform/tenants/nobody/export", ""); r.Status != 404 || r.Error.Code != "tenant_not_found" {
		t.Fatalf("export of no tenant: %d %s", r.Status, r.Body)
	}
	if r := p.send(t, "GET", "/platform/tenants/acme/export", ""); r.Status != 401 {
		t.Fatalf("export without a token: %d", r.Status)
	}

	post := func(query string, body []byte) (int, string) {
		req, _ := http.NewRequest("POST", p.srv.URL+"/platform/tenants/import"+query, bytes.NewReader(body))
		req.Host = "localhost"
		req.Header.Set("Authorization", bearer)
		req.Header.Set("Content-Type", "application/zstd")
		res, err := p.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := post("?id=acme2", archive); code != 201 || !strings.Contains(body, `"id":"acme2"`) || !strings.Contains(body, `"dropped_domains":["acme.example"]`) {
		t.Fatalf("import: %d %s", code, body)
	}
	if r := p.call(t, "GET", "/platform/tenants/acme2", ""); r.Status != 200 {
		t.Fatalf("imported tenant: %d %s", r.Status, r.Body)
	}
	for _, c := range []struct {
		query  string
		body   []byte
		status int
		code   string
	}{
		{"", archive, 409, "tenant_exists"},
		{"?replace=maybe", archive, 400, "invalid_replace"},
		{"?id=Bad_Id", archive, 400, "invalid_tenant_id"},
		{"?id=other", []byte("not an archive"), 400, "invalid_import"},
		{"?id=other", archive[:len(archive)/2], 400, "invalid_import"},
	} {
		code, body := post(c.query, c.body)
		if code != c.status || !strings.Contains(body, `"code":"`+c.code+`"`) {
			t.Errorf("import%s: %d %s, want %d %s", c.query, code, body, c.status, c.code)
		}
	}
	if code, body := post("?replace=true", archive); code != 201 || !strings.Contains(body, `"replaced":"`) {
		t.Errorf("import over acme with replace: %d %s", code, body)
	}
	if r := p.call(t, "GET", "/platform/tenants/other", ""); r.Status != 404 {
		t.Fatalf("a refused import created a tenant: %d", r.Status)
	}
	// The audit trail names the admin for the export and the import.
	r := p.call(t, "GET", "/platform/audit?limit=1000", "")
	body := string(r.Body)
	for _, want := range []string{`"action":"tenant.export","tenant_id":"acme"`, `"action":"tenant.import","tenant_id":"acme2","target":"acme"`,
		`"actor":"admin:` + apitest.AdminEmail + `"`} {
		if r.Status != 200 || !strings.Contains(body, want) {
			t.Errorf("GET /platform/audit: %d, no %s in %s", r.Status, want, body)
		}
	}
	if r := p.call(t, "GET", "/platform/audit?tenant=Bad_Id", ""); r.Status != 400 {
		t.Errorf("audit of a bad tenant id: %d", r.Status)
	}
}

// DELETE /platform/tenants/:id erases the tenant and answers with its
// tombstone; its hosts then answer 410; purge frees the id.
func TestPlatform_DeleteTenant(t *testing.T) {
	p := newTenantAPI(t)
	p.call(t, "POST", "/platform/tenants", `{"id": "acme"}`)
	r := p.call(t, "DELETE", "/platform/tenants/acme?reason=GDPR+request", "")
	if r.Status != 200 || !strings.Contains(string(r.Data), `"state":"deleted"`) || !strings.Contains(string(r.Data), `"reason":"GDPR request"`) ||
		!strings.Contains(string(r.Data), `"deleted_by":"admin:`+apitest.AdminEmail+`"`) {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if res := apitest.Do(t, p.srv, "GET", "acme.localhost", "/api/tenant", nil); res.Status != 410 {
		t.Fatalf("host of a deleted tenant: %d", res.Status)
	}
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"DELETE", "/platform/tenants/acme", 404, "tenant_not_found"},
		{"POST", "/platform/tenants", 409, "tenant_deleted"},
		{"DELETE", "/platform/tenants/Bad_Id", 400, "invalid_tenant_id"},
		{"POST", "/platform/tenants/nobody/purge", 404, "tombstone_not_found"},
	} {
		r := p.call(t, c.method, c.path, `{"id": "acme"}`)
		if r.Status != c.status || r.Error.Code != c.code {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, r.Status, r.Body, c.status, c.code)
		}
	}
	if r := p.send(t, "DELETE", "/platform/tenants/acme", ""); r.Status != 401 {
		t.Errorf("delete without a token: %d", r.Status)
	}
	req, _ := http.NewRequest("POST", p.srv.URL+"/platform/tenants/acme/purge", nil)
	req.Host = "localhost"
	req.Header.Set("Authorization", "Bearer "+p.token)
	if res, err := p.srv.Client().Do(req); err != nil || res.StatusCode != 204 {
		t.Fatalf("purge: %v %v", res, err)
	}
	if r := p.call(t, "POST", "/platform/tenants", `{"id": "acme"}`); r.Status != 201 {
		t.Fatalf("create after purge: %d %s", r.Status, r.Body)
	}
}

// With WakeArchived, the first request to a tenant the idle archiver
// archived waits for its restore and is served; one an operator archived
// stays 410.
func TestWakeArchived(t *testing.T) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 4})
	env.MustCreate(t, "sleepy", "manual")
	srv, _ := apitest.Serve(t, env.Catalog, env.Store, api.Config{Secret: apitest.Secret, WakeArchived: true})
	past := time.Now().Add(-2 * time.Hour)
	path, _ := env.Store.Path("sleepy")
	os.Chtimes(path, past, past)
	os.Chtimes(path+"-wal", past, past)
	if n, err := lifecycle.ArchiveIdle(ctx, env.Catalog, env.Store, time.Hour, "test", func(string, error) {}); err != nil || n != 1 {
		t.Fatalf("archive idle: %d %v", n, err)
	}
	if _, err := lifecycle.Archive(ctx, env.Catalog, env.Store, "manual", "test"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 { // requests arriving together: one wakes it, all are served
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res := apitest.Do(t, srv, "GET", "sleepy.localhost", "/api/tenant", nil); res.Status != 200 {
				t.Errorf("a request to an idle-archived tenant: %d %v", res.Status, res.Raw)
			}
		}()
	}
	wg.Wait()
	if res := apitest.Do(t, srv, "GET", "manual.localhost", "/api/tenant", nil); res.Status != 410 {
		t.Errorf("a request to an operator's archive: %d", res.Status)
	}
}

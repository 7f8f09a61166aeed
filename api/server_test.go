package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// response is a decoded reply: either data or an error.
type response struct {
	Status int            `json:"-"`
	Header http.Header    `json:"-"`
	Data   map[string]any `json:"data"`
	Error  struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Raw map[string]any `json:"-"`
}

func do(tb testing.TB, srv *httptest.Server, method, host, path string, body io.Reader, header ...string) response {
	tb.Helper()
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		tb.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := response{Status: res.StatusCode, Header: res.Header}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &r.Raw); err != nil {
			tb.Fatalf("%s %s: body is not JSON: %q", method, path, b)
		}
		json.Unmarshal(b, &r) // a list's data stays in Raw only
	}
	return r
}

func newServer(tb testing.TB, cc catalog.Config, sc tenantstore.Config) (*tenantstoretest.Env, *httptest.Server) {
	tb.Helper()
	env, srv, _ := newAPIServer(tb, cc, sc)
	return env, srv
}

// newAPIServer serves a real api.Server over loopback HTTP on a fresh data
// directory.
func newAPIServer(tb testing.TB, cc catalog.Config, sc tenantstore.Config) (*tenantstoretest.Env, *httptest.Server, *api.Server) {
	tb.Helper()
	env := tenantstoretest.MustOpen(tb, cc, sc)
	a := api.New(env.Catalog, env.Store, api.Config{})
	srv := httptest.NewServer(a)
	tb.Cleanup(srv.Close)
	return env, srv, a
}

func TestServer(t *testing.T) {
	ctx := context.Background()
	env, srv := newServer(t, catalog.Config{HeaderFallback: true}, tenantstore.Config{PoolSize: 8})
	if _, err := env.Store.Create(ctx, catalog.NewTenant{ID: "acme", Name: "Acme", Domains: []string{"acme.example.com"}}); err != nil {
		t.Fatal(err)
	}
	env.MustCreate(t, "beta", "paused", "gone", "dirty", "lost", "behind")
	env.Catalog.SetStatus(ctx, "paused", catalog.StatusSuspended)
	env.Catalog.SetStatus(ctx, "gone", catalog.StatusArchived)
	env.Catalog.SetSchemaState(ctx, "dirty", catalog.SchemaState{Version: 1, Dirty: true, Error: "migration 2 failed: boom"})
	os.Remove(filepath.Join(env.DataDir, "tenants", "lost", "tenant.db"))
	rollBack(t, env, "behind")

	tests := []struct {
		name, method, host, path string
		header                   []string
		body                     io.Reader
		wantStatus               int
		wantCode                 string // error code, when an error is expected
		wantID                   string // data.id, when data is expected
	}{
		{"Subdomain", "GET", "acme.localhost", "/api/tenant", nil, nil, 200, "", "acme"},
		{"CustomDomain", "GET", "acme.example.com", "/api/tenant", nil, nil, 200, "", "acme"},
		{"HostCaseAndPort", "GET", "BETA.localhost:8080", "/api/tenant", nil, nil, 200, "", "beta"},
		{"UnknownHost", "GET", "nobody.localhost", "/api/tenant", nil, nil, 404, "tenant_not_found", ""},
		{"NoTenantHost", "GET", "localhost", "/api/tenant", nil, nil, 404, "tenant_not_found", ""},
		{"Suspended", "GET", "paused.localhost", "/api/tenant", nil, nil, 403, "tenant_suspended", ""},
		{"Archived", "GET", "gone.localhost", "/api/tenant", nil, nil, 410, "tenant_archived", ""},
		{"Dirty", "GET", "dirty.localhost", "/api/tenant", nil, nil, 503, "tenant_migrating", ""},
		{"MissingFile", "GET", "lost.localhost", "/api/tenant", nil, nil, 503, "tenant_unavailable", ""},
		{"MigratedOnOpen", "GET", "behind.localhost", "/api/tenant", nil, nil, 200, "", "behind"},
		{"HeaderFallback", "GET", "unknown.example.org", "/api/tenant", []string{"X-Tenant-ID", "beta"}, nil, 200, "", "beta"},
		{"HeaderCannotOverrideHost", "GET", "acme.localhost", "/api/tenant", []string{"X-Tenant-ID", "beta"}, nil, 200, "", "acme"},
		{"HeaderPathTraversal", "GET", "unknown.example.org", "/api/tenant", []string{"X-Tenant-ID", "../beta"}, nil, 400, "invalid_tenant_id", ""},
		{"UnknownRoute", "GET", "acme.localhost", "/api/nothing", nil, nil, 404, "not_found", ""},
		{"WrongMethod", "DELETE", "acme.localhost", "/api/tenant", nil, nil, 405, "method_not_allowed", ""},
		{"BodyTooLarge", "POST", "acme.localhost", "/api/tenant", nil, bytes.NewReader(make([]byte, 5<<20)), 413, "body_too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, srv, tt.method, tt.host, tt.path, tt.body, tt.header...)
			if r.Status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%+v)", r.Status, tt.wantStatus, r.Raw)
			}
			if got := r.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
				t.Errorf("Content-Type = %q", got)
			}
			if tt.wantCode != "" {
				if r.Error.Code != tt.wantCode || r.Error.Message == "" {
					t.Errorf("error = %+v, want code %q with a message", r.Error, tt.wantCode)
				}
				return
			}
			if got := r.Data["id"]; got != tt.wantID {
				t.Errorf("data.id = %v, want %q", got, tt.wantID)
			}
		})
	}

	t.Run("PublicFieldsOnly", func(t *testing.T) {
		r := do(t, srv, "GET", "acme.localhost", "/api/tenant", nil)
		want := map[string]any{"id": "acme", "name": "Acme", "branding": map[string]any{}, "primary_domain": "acme.example.com",
			"schema_version": float64(migrations.Tenant().Latest())}
		if got, _ := json.Marshal(r.Data); string(got) != string(must(json.Marshal(want))) {
			t.Errorf("data = %s, want %s", got, must(json.Marshal(want)))
		}
	})
	t.Run("MigrationRecorded", func(t *testing.T) {
		ten, err := env.Catalog.Tenant(ctx, "behind")
		if err != nil {
			t.Fatal(err)
		}
		if ten.Schema.Version != migrations.Tenant().Latest() || ten.Schema.Dirty || ten.Schema.MigratedAt == nil {
			t.Errorf("schema = %+v, want latest, clean, recorded", ten.Schema)
		}
	})
	t.Run("DirtyMessage", func(t *testing.T) {
		r := do(t, srv, "GET", "dirty.localhost", "/api/tenant", nil)
		if !strings.Contains(r.Error.Message, "boom") || r.Header.Get("Retry-After") == "" {
			t.Errorf("dirty tenant: %+v, Retry-After %q; want the stored error and a Retry-After", r.Error, r.Header.Get("Retry-After"))
		}
	})
	t.Run("RequestID", func(t *testing.T) {
		r := do(t, srv, "GET", "acme.localhost", "/api/tenant", nil, "X-Request-Id", "trace-123")
		if got := r.Header.Get("X-Request-Id"); got != "trace-123" {
			t.Errorf("X-Request-Id = %q, want the client's", got)
		}
		r = do(t, srv, "GET", "acme.localhost", "/api/tenant", nil, "X-Request-Id", "bad id\twith spaces")
		if got := r.Header.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
			t.Errorf("X-Request-Id = %q, want a fresh one", got)
		}
	})
	t.Run("Health", func(t *testing.T) {
		if r := do(t, srv, "GET", "anything", "/healthz", nil); r.Status != 200 {
			t.Errorf("healthz = %d", r.Status)
		}
		if r := do(t, srv, "GET", "anything", "/readyz", nil); r.Status != 200 || r.Raw["status"] != "ready" {
			t.Errorf("readyz = %d %v", r.Status, r.Raw)
		}
	})
}

// rollBack moves a tenant's database back to version 0, as if it had been
// created by an older binary, and records that in the catalog.
func rollBack(tb testing.TB, env *tenantstoretest.Env, id string) {
	tb.Helper()
	ctx := context.Background()
	path, _ := env.Store.Path(id)
	db, err := sqlitedb.Open(path, sqlitedb.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := migrations.Tenant().Apply(ctx, db.Write, 0); err != nil {
		tb.Fatal(err)
	}
	if err := env.Catalog.SetSchemaState(ctx, id, catalog.SchemaState{Version: 0}); err != nil {
		tb.Fatal(err)
	}
}

// Many requests for many tenants through a small pool: evictions happen
// while requests hold handles, and no request fails.
func TestServer_Churn(t *testing.T) {
	env, srv := newServer(t, catalog.Config{}, tenantstore.Config{PoolSize: 3})
	ids := []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"}
	env.MustCreate(t, ids...)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				id := ids[(w+i*3)%len(ids)]
				r := do(t, srv, "GET", id+".localhost", "/api/tenant", nil)
				if r.Status == 503 && r.Error.Code == "pool_exhausted" {
					continue // a documented answer when every handle is busy
				}
				if r.Status != 200 || r.Data["id"] != id {
					t.Errorf("%s: %d %+v", id, r.Status, r.Raw)
					return
				}
			}
		}()
	}
	wg.Wait()
	if st := env.Store.Stats(); st.Open > 3 || st.Draining != 0 {
		t.Errorf("pool after churn: %+v", st)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

package catalog_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/sqlitedb"
)

// The catalog's tests run over both of its backends: the local file
// (catalog.Open) and a libSQL URL (catalog.OpenURL), here an in-process
// Hrana server (package hrana, as the primary node's /_condo/catalog
// serves it) over a real SQLite file in the test's directory. mustOpen
// picks the backend; TestCatalog_OverLibSQL runs a representative set of
// the tests with the libSQL one.

// overLibSQL is set while TestCatalog_OverLibSQL runs a test (never in
// parallel): mustOpen then opens the catalog over libSQL.
var overLibSQL bool

// testToken is the catalog token of the in-process servers.
const testToken = "catalog token of the tests"

var (
	serversMu sync.Mutex
	servers   = map[string]*testServer{} // data dir → the server of its catalog file
)

// testServer is an in-process server of one catalog file.
type testServer struct {
	url  string
	down atomic.Bool // drop every connection, as a dead network would
}

// openBackend opens the catalog of dir with the test's backend.
func openBackend(tb testing.TB, dir string, cfg catalog.Config) (*catalog.Catalog, error) {
	if !overLibSQL {
		return catalog.Open(context.Background(), dir, cfg)
	}
	return catalog.OpenURL(context.Background(), serveCatalogFile(tb, dir).url, testToken, cfg)
}

// serveCatalogFile serves dir's catalog file (created empty if needed:
// OpenURL migrates it over the protocol) as the primary node does, and
// returns its URL. Every open of one dir shares one server, as the nodes
// of a fleet share the primary.
func serveCatalogFile(tb testing.TB, dir string) *testServer {
	serversMu.Lock()
	defer serversMu.Unlock()
	if ts, ok := servers[dir]; ok {
		return ts
	}
	ts := &testServer{}
	db, err := sqlitedb.Open(catalog.Path(dir), sqlitedb.Options{Create: true})
	if err == nil {
		err = db.Write.Ping() // creates the file, in WAL mode: stream connections only open it
	}
	if err != nil {
		tb.Fatal(err)
	}
	reg := hrana.New(nil, hrana.Config{MaxStreams: api.CatalogStreams, MaxTenantStreams: api.CatalogStreams}) // as serve's
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { reg.Run(ctx); close(done) }()
	caller := &hrana.Caller{Tenant: &catalog.Tenant{ID: "_catalog"}, Access: hrana.Catalog, DB: db}
	mux := http.NewServeMux()
	serve := func(version int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if ts.down.Load() {
				if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
					conn.Close()
				}
				return
			}
			if r.Header.Get("Authorization") != "Bearer "+testToken {
				hrana.WriteError(w, &hrana.HTTPError{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: "no token"})
				return
			}
			if err := reg.ServePipeline(w, r, version, caller); err != nil {
				var he *hrana.HTTPError
				if !errors.As(err, &he) {
					he = &hrana.HTTPError{Status: http.StatusInternalServerError, Code: "INTERNAL", Message: err.Error()}
				}
				hrana.WriteError(w, he)
			}
		}
	}
	mux.HandleFunc("POST /_condo/catalog/v2/pipeline", serve(2))
	mux.HandleFunc("POST /_condo/catalog/v3/pipeline", serve(3))
	srv := httptest.NewServer(mux)
	tb.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		db.Close()
		serversMu.Lock()
		delete(servers, dir)
		serversMu.Unlock()
	})
	ts.url = srv.URL + "/_condo/catalog"
	servers[dir] = ts
	return ts
}

// TestCatalog_OverLibSQL runs the catalog's tests of tenants, domains,
// resolution, nodes, the outbox (IsUnique over libSQL), schema state and
// runs with the catalog opened at a libSQL URL.
func TestCatalog_OverLibSQL(t *testing.T) {
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"ResolveHost", TestCatalog_ResolveHost},
		{"ResolveHost_OtherProcess", TestCatalog_ResolveHost_OtherProcess},
		{"Domains", TestCatalog_Domains},
		{"CreateTenant", TestCatalog_CreateTenant},
		{"Admins", TestCatalog_Admins},
		{"BaseDomain", TestCatalog_BaseDomain},
		{"SubdomainBeatsCustomDomain", TestCatalog_SubdomainBeatsCustomDomain},
		{"DefaultTenant", TestCatalog_DefaultTenant},
		{"Nodes", TestNodes_RegisterHeartbeatHealth},
		{"NodesRefuseBadInfo", TestNodes_RegisterRefusesBadInfo},
		{"Outbox", TestCatalog_Outbox},
		{"Residency", TestResidency_CreateTenant},
		{"SchemaStatus", TestCatalog_SchemaStatus},
		{"Runs", TestCatalog_Runs},
		{"RecordSchema", TestCatalog_RecordSchema},
		{"RecordSchemas", TestCatalog_RecordSchemas},
		{"SetTenantSetting", TestCatalog_SetTenantSetting},
		{"UpdateTenant", TestCatalog_UpdateTenant},
		{"DueTenantsOfRegion", TestCatalog_DueTenantsOfRegion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			overLibSQL = true
			defer func() { overLibSQL = false }()
			tc.fn(t)
		})
	}
}

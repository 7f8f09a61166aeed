package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tursodatabase/libsql-client-go/libsql"
)

// The libSQL endpoint's tests drive a real `condo serve` with the real
// clients: libsql-client-go through database/sql, its own HTTP test
// suite, and @libsql/client under Node.
//
// How a client reaches a tenant. The endpoint routes by Host, as every
// tenant route does. libsql-client-go keeps the tenant's host while it
// sends to a local address (libsql.WithProxy), so the tests of our own
// name every tenant by its host. Two clients cannot: libsql-client-go's
// own suite takes only a URL, and @libsql/client resolves v2/pipeline
// against its URL through fetch, which drops a Host header. *.localhost
// names do not resolve here (neither Go's resolver nor getaddrinfo), a
// custom domain needs a dot (so not "localhost"), and X-Tenant-ID cannot
// be set by either client. So the server runs with CONDO_DEFAULT_TENANT
// naming the first tenant: a URL of http://127.0.0.1:PORT, a host that
// matches no tenant, reaches it, as <app>.fly.dev reaches the default
// tenant in production. Other tenants stay reachable only by their own
// host.

// libsqlBase is the base domain of a new data directory.
const libsqlBase = "localhost"

// libsqlEnv is a `condo serve` with tenants for the libSQL tests.
type libsqlEnv struct {
	*server
	data string
}

// startLibSQL starts a server on a new data directory and creates the
// tenants; the first one is also the default tenant, reached at
// http://<addr> (see above).
func startLibSQL(t *testing.T, tenants ...string) *libsqlEnv {
	t.Helper()
	data := t.TempDir()
	// The clients' own suites send more requests a second than a plan's
	// rate allows.
	e := &libsqlEnv{server: startServer(t, data, "CONDO_DEFAULT_TENANT="+tenants[0], unmeteredPlans(t)), data: data}
	for _, id := range tenants {
		if code, _, errOut := runCondo(t, nil, "", "tenants", "create", id, "--data", data); code != 0 {
			t.Fatalf("tenants create %s: %s", id, errOut)
		}
		eventually(t, func() bool { c, _ := e.get(t, e.host(id), "/api/tenant"); return c == 200 })
	}
	return e
}

// host is a tenant's own host name.
func (e *libsqlEnv) host(tenant string) string { return tenant + "." + libsqlBase }

// url is the address of the default tenant as a client's URL.
func (e *libsqlEnv) url() string { return "http://" + e.addr }

// sqlToken mints a tenant API token for the endpoint with `condo tokens
// create`, as an operator would: mode "read" carries sql.read, "write"
// sql.read and sql.write.
func (e *libsqlEnv) sqlToken(t *testing.T, tenant, mode string) string {
	t.Helper()
	code, out, errOut := runCondo(t, nil, "", "tokens", "create", tenant, "--sql", mode, "--name", "libsql-"+mode, "--json", "--data", e.data)
	if code != 0 {
		t.Fatalf("tokens create %s --sql %s: %d %s", tenant, mode, code, errOut)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.Token == "" {
		t.Fatalf("tokens create --json printed no token (%v)", err)
	}
	return tok.Token
}

// logTail is the end of the server's log, for a failure's message.
func (e *libsqlEnv) logTail() string {
	lines := strings.Split(strings.TrimRight(e.logs.String(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// openGo opens a database/sql handle on a tenant through libsql-client-go,
// sending to the server's address with the tenant's own host.
func (e *libsqlEnv) openGo(t *testing.T, tenant, token string) *sql.DB {
	t.Helper()
	c, err := libsql.NewConnector("libsql://"+e.host(tenant), libsql.WithProxy(e.url()), libsql.WithAuthToken(token))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	return db
}

// unmeteredPlans is the environment setting of a plans file whose free
// plan has no request rate limit (its other limits are the built-in free
// plan's), for servers of tests that send more requests a second than a
// plan allows.
func unmeteredPlans(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plans.yaml")
	if err := os.WriteFile(path, []byte("plans:\n  free:\n    requests_per_second: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return "CONDO_PLANS=" + path
}

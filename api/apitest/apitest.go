// Package apitest serves a real api.Server over loopback HTTP, on real
// files in the test's temporary directory, and calls it: a request with a
// host, a token and a body, its JSON answer decoded, its status checked.
// These are the HTTP test helpers of api's tests, for any package that
// tests through the API.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/jobs"
	"github.com/condohq/condo/plans"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// Secret signs the tokens of the servers tests build.
var Secret = []byte("0123456789abcdef0123456789abcdef")

// The platform admin of an Env (and of servers tests build alike).
const (
	AdminEmail    = "ops@example.com"
	AdminPassword = "correct horse battery"
)

// AdminPass is the start of the password of each tenant's admin in an
// Env: admin@example.com signs in with AdminPass + the tenant id.
const AdminPass = "admin password 1"

// Response is a decoded reply: either data or an error.
type Response struct {
	Status int            `json:"-"`
	Header http.Header    `json:"-"`
	Data   map[string]any `json:"data"`
	Error  struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Raw map[string]any `json:"-"`
}

// Do sends one request to srv with Host host and header (name, value
// pairs), and decodes its JSON answer; a body that is not JSON fails the
// test.
func Do(tb testing.TB, srv *httptest.Server, method, host, path string, body io.Reader, header ...string) Response {
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
	r := Response{Status: res.StatusCode, Header: res.Header}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &r.Raw); err != nil {
			tb.Fatalf("%s %s: body is not JSON: %q", method, path, b)
		}
		json.Unmarshal(b, &r) // a list's data stays in Raw only
	}
	return r
}

// Send makes one request without compression and returns the answer and
// its body. A redirect is answered as it is, not followed (the HTML
// admin's refusals are redirects to its sign-in page).
func Send(tb testing.TB, base, method, host, path, token string, header ...string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Accept-Encoding", "identity")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res, b
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// WantStatus fails the test unless res has status and, when code is not
// empty, that error code.
func WantStatus(tb testing.TB, res Response, status int, code string) {
	tb.Helper()
	if res.Status != status || code != "" && res.Error.Code != code {
		tb.Fatalf("got %d %v, want %d %s", res.Status, res.Raw, status, code)
	}
}

// Serve serves api.New(cat, store, cfg) over loopback HTTP until the test
// ends. Without cfg.Jobs it gives the server started jobs of its own, as
// serve does, and closes them after the server, failing the test if their
// Close does; without cfg.Streams, a running stream registry, stopped
// after the server.
func Serve(tb testing.TB, cat *catalog.Catalog, store *tenantstore.Store, cfg api.Config) (*httptest.Server, *api.Server) {
	tb.Helper()
	closeJobs := withJobs(tb, cat, store, &cfg)
	closeStreams := withStreams(store, &cfg)
	a := api.New(cat, store, cfg)
	srv := httptest.NewServer(a)
	tb.Cleanup(func() {
		srv.Close()
		closeStreams()
		closeJobs()
	})
	return srv, a
}

// withStreams runs a stream registry for cfg when it has none, as serve
// does, and returns what stops it (closing its streams).
func withStreams(store *tenantstore.Store, cfg *api.Config) func() {
	return runStreams(store, cfg, hrana.Config{})
}

// runStreams is withStreams with the registry's settings sc.
func runStreams(store *tenantstore.Store, cfg *api.Config, sc hrana.Config) func() {
	if cfg.Streams != nil {
		return func() {}
	}
	if sc.Logger == nil {
		sc.Logger = cfg.Logger
	}
	cfg.Streams = hrana.New(store, sc)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		cfg.Streams.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// withJobs starts jobs for cfg when it has none and returns what closes
// them.
func withJobs(tb testing.TB, cat *catalog.Catalog, store *tenantstore.Store, cfg *api.Config) func() {
	if cfg.Jobs != nil {
		return func() {}
	}
	j := jobs.New(cat, store, jobs.Config{Logger: cfg.Logger})
	if err := j.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	cfg.Jobs = j
	return func() {
		if err := j.Close(context.Background()); err != nil {
			tb.Error(err)
		}
	}
}

// Env is a server with two tenants, tenant-a and tenant-b, each with an
// admin (admin@example.com, a different password in each: AdminPass +
// the tenant id), and a platform admin (AdminEmail, AdminPassword).
type Env struct {
	*tenantstoretest.Env
	Srv *httptest.Server
	API *api.Server
	Log *LogBuffer // the server's log, JSON lines
	// Streams is the server's libSQL stream registry (Config.Streams, or
	// the one New started).
	Streams *hrana.Registry
}

// LogBuffer is a bytes.Buffer safe for concurrent writers.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *LogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *LogBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// New builds an Env on a fresh data directory, with cfg (Secret defaults
// to the package's; Logger is the Env's Log). A failed test logs the
// server's errors.
func New(t testing.TB, cfg api.Config) *Env {
	t.Helper()
	return NewWithStreams(t, cfg, hrana.Config{})
}

// NewWithStreams is New whose server runs a stream registry of settings
// sc (a shorter idle timeout, a clock of the test's), unless cfg.Streams
// is set.
func NewWithStreams(t testing.TB, cfg api.Config, sc hrana.Config) *Env {
	t.Helper()
	return NewWithPlans(t, cfg, sc, nil)
}

// NewWithPlans is NewWithStreams whose catalog holds tenants to ps (nil:
// the built-in plans without their rate limits, as tenantstoretest's).
func NewWithPlans(t testing.TB, cfg api.Config, sc hrana.Config, ps *plans.Set) *Env {
	t.Helper()
	env := tenantstoretest.MustOpen(t, catalog.Config{HeaderFallback: true, Plans: ps}, tenantstore.Config{PoolSize: 8})
	e := &Env{Env: env, Log: &LogBuffer{}}
	for _, id := range []string{"tenant-a", "tenant-b"} {
		if _, err := env.Store.Create(context.Background(), catalog.NewTenant{ID: id, Name: "Name of " + id}); err != nil {
			t.Fatal(err)
		}
		e.User(t, id, "admin@example.com", auth.RoleAdmin, AdminPass+id)
	}
	if _, err := env.Catalog.CreateAdmin(context.Background(), AdminEmail, AdminPassword); err != nil {
		t.Fatal(err)
	}
	if cfg.Secret == nil {
		cfg.Secret = Secret
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(e.Log, nil))
	closeJobs := withJobs(t, env.Catalog, env.Store, &cfg)
	closeStreams := runStreams(env.Store, &cfg, sc)
	e.API = api.New(env.Catalog, env.Store, cfg)
	e.Streams = cfg.Streams
	e.Srv = httptest.NewServer(e.API)
	t.Cleanup(func() {
		e.Srv.Close()
		closeStreams()
		closeJobs()
		if t.Failed() { // show the server's internal errors
			for _, line := range strings.Split(e.Log.String(), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) {
					t.Log(line)
				}
			}
		}
	})
	return e
}

// AuthStore runs fn with a tenant's identity store.
func (e *Env) AuthStore(t testing.TB, tenant string, fn func(st *auth.Store)) {
	t.Helper()
	h, release, err := e.Store.Acquire(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	fn(auth.New(tenant, h.DB))
}

// User creates a user directly in a tenant's database and returns its id.
func (e *Env) User(t testing.TB, tenant, email, role, password string) string {
	t.Helper()
	var id string
	e.AuthStore(t, tenant, func(st *auth.Store) {
		u, err := st.CreateUser(context.Background(), auth.NewUser{Email: email, Password: password, Role: role},
			auth.Limits{Users: 100, Policy: auth.DefaultPasswordPolicy})
		if err != nil {
			t.Fatal(err)
		}
		id = u.ID
	})
	return id
}

// Call sends a request to a tenant's host with an optional bearer token
// and JSON body.
func (e *Env) Call(t testing.TB, host, method, path, token, body string, header ...string) Response {
	t.Helper()
	if token != "" {
		header = append(header, "Authorization", "Bearer "+token)
	}
	if !strings.Contains(host, ".") {
		host += ".localhost"
	}
	return Do(t, e.Srv, method, host, path, strings.NewReader(body), header...)
}

// Login signs a user in and returns the access and refresh tokens.
func (e *Env) Login(t testing.TB, tenant, email, password string) (string, string) {
	t.Helper()
	res := e.Call(t, tenant, "POST", "/auth/login", "", fmt.Sprintf(`{"email": %q, "password": %q}`, email, password))
	if res.Status != http.StatusOK {
		t.Fatalf("login %s on %s: %d %v", email, tenant, res.Status, res.Raw)
	}
	return res.Raw["token"].(string), res.Raw["refresh_token"].(string)
}

// AdminToken signs the tenant's admin in and returns the access token.
func (e *Env) AdminToken(t testing.TB, tenant string) string {
	tok, _ := e.Login(t, tenant, "admin@example.com", AdminPass+tenant)
	return tok
}

// Events returns a tenant's audit events of one action.
func (e *Env) Events(t testing.TB, tenant, action string) []auth.Event {
	t.Helper()
	var out []auth.Event
	e.AuthStore(t, tenant, func(st *auth.Store) {
		var err error
		if out, err = st.Events(context.Background(), auth.EventFilter{Action: action}); err != nil {
			t.Fatal(err)
		}
	})
	return out
}

// PlatformEvents returns the platform's security events of one kind.
func (e *Env) PlatformEvents(t testing.TB, kind string) []catalog.SecurityEvent {
	t.Helper()
	ev, err := e.Catalog.SecurityEvents(context.Background(), catalog.SecurityEventFilter{Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// Mail returns the newest message the outbox holds for an address.
func (e *Env) Mail(t testing.TB, to string) string {
	t.Helper()
	msgs, err := e.Catalog.Outbox(context.Background(), catalog.OutboxFilter{To: to, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) == 0 {
		t.Fatalf("no mail to %s", to)
	}
	return msgs[0].Body
}

// Fetch sends a request to a tenant's host whose answer need not be JSON.
func (e *Env) Fetch(t testing.TB, tenant, method, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.Srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = tenant + ".localhost"
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := e.Srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/route"
)

// freeAddr is a loopback address nothing listens on (for a node that
// must know its advertise URL before it starts).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startNode starts a node of region with id on data, reachable at its
// advertise URL.
func startNode(t *testing.T, data, id, region string, env ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	env = append([]string{"FLY_REGION=", "FLY_MACHINE_ID=", "CONDO_FORWARD=", "CONDO_HEARTBEAT_INTERVAL=200ms"}, env...)
	return startServerArgs(t, data, []string{"--addr", addr, "--node-id", id, "--region", region, "--advertise-url", "http://" + addr}, env...)
}

// call sends one request to s for host and returns the answer with its
// body read.
func (s *server) call(t *testing.T, method, host, path string, body io.Reader, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+s.addr+path, body)
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// errorCode is the code of an api error body, or of a libSQL one.
func errorCode(b []byte) string {
	var e struct {
		Error any `json:"error"`
		Code  string
	}
	json.Unmarshal(b, &e)
	if m, ok := e.Error.(map[string]any); ok {
		s, _ := m["code"].(string)
		return s
	}
	return e.Code
}

// Two real nodes on one data directory (one shared catalog): a tenant's
// requests are served by a node of its home region wherever they land.
func TestServe_RequestsGoHome(t *testing.T) {
	data := t.TempDir()
	ams := startNode(t, data, "node-ams", "ams", "CONDO_ADMIN_EMAIL=ops@example.com", "CONDO_ADMIN_PASSWORD=a long chosen password")
	iad := startNode(t, data, "node-iad", "iad")
	for id, region := range map[string]string{"west": "iad", "east": "ams"} {
		if code, _, errOut := run(t, "", "tenants", "create", id, "--region", region, "--data", data); code != 0 {
			t.Fatalf("create %s: %s", id, errOut)
		}
	}

	// Proxied from ams to iad: iad's answer, named by its node.
	var res *http.Response
	var body []byte
	eventually(t, func() bool { // the tenant is resolvable once the caches (200ms) pass
		res, body = ams.call(t, "GET", "west.localhost", "/api/tenant", nil)
		return res.StatusCode == 200
	})
	if got := res.Header.Get(api.NodeHeader); got != "node-iad" || !strings.Contains(string(body), `"id":"west"`) || res.Header.Get("Fly-Replay") != "" {
		t.Fatalf("west at ams: %d %s %q %s", res.StatusCode, got, res.Header, body)
	}
	if n := strings.Count(res.Header.Get("X-Content-Type-Options"), "nosniff"); n != 1 || len(res.Header.Values("X-Content-Type-Options")) != 1 {
		t.Errorf("headers doubled: %q", res.Header)
	}
	eventually(t, func() bool { return strings.Contains(ams.logs.String(), "forwarded_to=node-iad") })
	// A home tenant is served here; the iad node serves its own.
	if res, _ := ams.call(t, "GET", "east.localhost", "/api/tenant", nil); res.StatusCode != 200 || res.Header.Get(api.NodeHeader) != "node-ams" {
		t.Errorf("east at ams: %d %s", res.StatusCode, res.Header.Get(api.NodeHeader))
	}
	if res, _ := iad.call(t, "GET", "west.localhost", "/api/tenant", nil); res.StatusCode != 200 || res.Header.Get(api.NodeHeader) != "node-iad" {
		t.Errorf("west at iad: %d %s", res.StatusCode, res.Header.Get(api.NodeHeader))
	}
	// A tenant homed in ams, created through iad, is created by ams, where
	// its database must be written.
	res, body = iad.call(t, "POST", "localhost", "/platform/auth/login", strings.NewReader(`{"email":"ops@example.com","password":"a long chosen password"}`))
	var login struct{ Token string }
	if err := json.Unmarshal(body, &login); err != nil || login.Token == "" {
		t.Fatalf("login at iad: %d %s", res.StatusCode, body)
	}
	res, body = iad.call(t, "POST", "localhost", "/platform/tenants", strings.NewReader(`{"id":"north","region":"ams"}`), "Authorization", "Bearer "+login.Token)
	if res.StatusCode != 201 || res.Header.Get(api.NodeHeader) != "node-ams" || !strings.Contains(string(body), `"region":"ams"`) {
		t.Errorf("create an ams tenant at iad: %d %s %s", res.StatusCode, res.Header.Get(api.NodeHeader), body)
	}
	// The libSQL endpoint is forwarded too, and answers in its own shape.
	res, body = ams.call(t, "POST", "west.localhost", "/v2/pipeline", strings.NewReader(`{"requests":[]}`))
	if res.StatusCode != 401 || res.Header.Get(api.NodeHeader) != "node-iad" || errorCode(body) == "" {
		t.Errorf("libSQL at ams: %d %s %s", res.StatusCode, res.Header.Get(api.NodeHeader), body)
	}
	// With a token, SQL runs at home, and the cursor's rows stream back.
	code, out, errOut := run(t, "", "tokens", "create", "west", "--sql", "write", "--name", "route", "--json", "--data", data)
	var tok struct{ Token string }
	if json.Unmarshal([]byte(out), &tok); code != 0 || tok.Token == "" {
		t.Fatalf("tokens create: %d %s", code, errOut)
	}
	res, body = ams.call(t, "POST", "west.localhost", "/v2/pipeline",
		strings.NewReader(`{"requests":[{"type":"execute","stmt":{"sql":"CREATE TABLE t(x); "}},{"type":"execute","stmt":{"sql":"INSERT INTO t VALUES (42)"}}]}`),
		"Authorization", "Bearer "+tok.Token, "Content-Type", "application/json")
	if res.StatusCode != 200 || res.Header.Get(api.NodeHeader) != "node-iad" || strings.Contains(string(body), `"error"`) {
		t.Errorf("pipeline at ams: %d %s %s", res.StatusCode, res.Header.Get(api.NodeHeader), body)
	}
	res, body = ams.call(t, "POST", "west.localhost", "/v3/cursor",
		strings.NewReader(`{"baton":null,"batch":{"steps":[{"stmt":{"sql":"SELECT x FROM t"}}]}}`),
		"Authorization", "Bearer "+tok.Token, "Content-Type", "application/json")
	if res.StatusCode != 200 || res.Header.Get(api.NodeHeader) != "node-iad" || !strings.Contains(string(body), `"42"`) {
		t.Errorf("cursor at ams: %d %s %s", res.StatusCode, res.Header.Get(api.NodeHeader), body)
	}
	// Platform routes and health checks stay here.
	for _, path := range []string{"/healthz", "/readyz", "/platform/nodes"} {
		if res, _ := ams.call(t, "GET", "west.localhost", path, nil); res.Header.Get(api.NodeHeader) != "node-ams" {
			t.Errorf("%s forwarded: %s", path, res.Header.Get(api.NodeHeader))
		}
	}

	// A forged marker is refused, at either node, and logged.
	forged := "t=" + strconv.FormatInt(time.Now().UnixMilli(), 10) + ";ip=127.0.0.1;sig=AAAA"
	for _, s := range []*server{ams, iad} {
		res, body := s.call(t, "GET", "west.localhost", "/api/tenant", nil, route.MarkerHeader, forged)
		if res.StatusCode != 400 || errorCode(body) != "invalid_forward_marker" {
			t.Errorf("forged marker: %d %s", res.StatusCode, body)
		}
	}
	eventually(t, func() bool { return strings.Contains(iad.logs.String(), "security: refused a forwarded request") })

	// No loop: a validly marked request is served where it lands, even at
	// a node that is not the tenant's home (as if each node thought the
	// other was home).
	cat, err := catalog.Open(context.Background(), data, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	v, err := cat.Meta(context.Background(), route.MetaForwardSecret)
	secret, _ := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(secret) != 32 {
		t.Fatalf("forward secret: %v", err)
	}
	marker := route.Sign(secret, "GET", "west.localhost", "/api/tenant", "203.0.113.9", time.Now())
	res, body = ams.call(t, "GET", "west.localhost", "/api/tenant", nil, route.MarkerHeader, marker)
	if res.StatusCode != 200 || res.Header.Get(api.NodeHeader) != "node-ams" || !strings.Contains(string(body), `"id":"west"`) {
		t.Errorf("marked request at ams: %d %s %s", res.StatusCode, res.Header.Get(api.NodeHeader), body)
	}
	// The client address the marker vouches for is the request's at the
	// node that serves it (here, in a security event).
	marker = route.Sign(secret, "GET", "west.localhost", "/api/tenant", "203.0.113.9", time.Now())
	if res, body := ams.call(t, "GET", "west.localhost", "/api/tenant", nil, route.MarkerHeader, marker, "Authorization", "Bearer junk"); res.StatusCode != 401 {
		t.Errorf("marked request with a bad token: %d %s", res.StatusCode, body)
	}
	evs, err := cat.SecurityEvents(context.Background(), catalog.SecurityEventFilter{TenantID: "west", Kind: "invalid_token"})
	if err != nil || len(evs) != 1 || evs[0].IP != "203.0.113.9" {
		t.Errorf("security events: %+v %v", evs, err)
	}
	// An old marker is refused.
	old := route.Sign(secret, "GET", "west.localhost", "/api/tenant", "203.0.113.9", time.Now().Add(-time.Minute))
	if res, body := ams.call(t, "GET", "west.localhost", "/api/tenant", nil, route.MarkerHeader, old); res.StatusCode != 400 {
		t.Errorf("old marker: %d %s", res.StatusCode, body)
	}

	// On Fly.io a node answers with fly-replay, except for large bodies.
	fly := startNode(t, data, "node-fly", "ams", "FLY_REGION=ams")
	res, body = fly.call(t, "GET", "west.localhost", "/api/tenant", nil)
	if res.Header.Get("Fly-Replay") != "region=iad" || len(body) != 0 || res.StatusCode != 409 || res.Header.Get(api.NodeHeader) != "node-fly" {
		t.Errorf("replay: %d %q %q", res.StatusCode, res.Header, body)
	}
	big := bytes.Repeat([]byte("x"), 1<<20+10)
	res, body = fly.call(t, "POST", "west.localhost", "/auth/login", bytes.NewReader(big), "Content-Type", "application/json")
	if res.Header.Get("Fly-Replay") != "" || res.Header.Get(api.NodeHeader) != "node-iad" || res.StatusCode != 400 {
		t.Errorf("a large POST on Fly: %d %q %s", res.StatusCode, res.Header, body)
	}
	// A body of unknown length cannot be replayed either.
	res, _ = fly.call(t, "POST", "west.localhost", "/auth/login", io.MultiReader(strings.NewReader("{}")), "Content-Type", "application/json")
	if res.Header.Get("Fly-Replay") != "" || res.Header.Get(api.NodeHeader) != "node-iad" {
		t.Errorf("a chunked POST on Fly: %d %q", res.StatusCode, res.Header)
	}
	// A request Fly replayed is served where it lands.
	res, _ = fly.call(t, "GET", "west.localhost", "/api/tenant", nil, "Fly-Replay-Src", "instance=x;region=iad;t=1")
	if res.StatusCode != 200 || res.Header.Get(api.NodeHeader) != "node-fly" {
		t.Errorf("replayed request: %d %q", res.StatusCode, res.Header)
	}

	// The home region down: 503 region_unavailable, and the other region
	// still serves its tenants.
	iad.cmd.Process.Signal(syscall.SIGTERM)
	if err := iad.cmd.Wait(); err != nil {
		t.Fatalf("iad exit: %v", err)
	}
	eventually(t, func() bool { // once the node list's cache (2s) passes
		res, body = ams.call(t, "GET", "west.localhost", "/api/tenant", nil)
		return res.StatusCode == 503
	})
	if errorCode(body) != "region_unavailable" || res.Header.Get("Retry-After") == "" {
		t.Errorf("home region down: %d %q %s", res.StatusCode, res.Header, body)
	}
	eventually(t, func() bool {
		res, body = fly.call(t, "GET", "west.localhost", "/api/tenant", nil)
		return res.StatusCode == 503 && errorCode(body) == "region_unavailable"
	})
	if res, _ := ams.call(t, "GET", "east.localhost", "/api/tenant", nil); res.StatusCode != 200 {
		t.Errorf("east while iad is down: %d", res.StatusCode)
	}
}

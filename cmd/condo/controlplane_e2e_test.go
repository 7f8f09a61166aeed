package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/api"
)

// Three real nodes, each with its region and its own data directory,
// share one control plane: node A's catalog, which A serves at
// /_condo/catalog and B and C open with --catalog. A tenant created
// through A is served by C within the resolution TTL; one created with
// the CLI against the shared catalog from B's directory is served at
// home by B and forwarded there from the others; with A killed, known
// tenants keep serving on B and C, and /readyz warns.
func TestServe_OneControlPlane(t *testing.T) {
	const token = "the control plane token of this test"
	t.Setenv("CONDO_CATALOG_TOKEN", token) // the nodes' and the operator commands'
	const adminPass = "the platform admin's password here"
	t.Setenv("CONDO_ADMIN_PASSWORD", adminPass) // A's first run bootstraps the shared catalog
	var env []string
	dataA, dataB, dataC := t.TempDir(), t.TempDir(), t.TempDir()
	a := startNode(t, dataA, "node-a", "ams", append(env, "CONDO_SERVE_CATALOG=true")...)
	catURL := "http://" + a.addr + api.CatalogPath
	b := startNode(t, dataB, "node-b", "iad", append(env, "CONDO_CATALOG="+catURL)...)
	c := startNode(t, dataC, "node-c", "ord", append(env, "CONDO_CATALOG="+catURL)...)
	for _, s := range []*server{a, b, c} {
		if strings.Contains(s.logs.String(), token) {
			t.Fatalf("a log shows the catalog token: %s", s.logs.String())
		}
	}

	// The endpoint refuses a missing or wrong token, in JSON.
	for _, auth := range []string{"", "Bearer not the token"} {
		res, body := a.call(t, "POST", "anything.example", api.CatalogPath+"/v2/pipeline", strings.NewReader(`{"requests":[]}`),
			"Authorization", auth, "Content-Type", "application/json")
		if res.StatusCode != 401 || errorCode(body) == "" {
			t.Errorf("catalog endpoint with %q: %d %s", auth, res.StatusCode, body)
		}
	}
	// B does not serve its (remote) catalog.
	if res, body := b.call(t, "POST", "localhost", api.CatalogPath+"/v2/pipeline", strings.NewReader(`{"requests":[]}`),
		"Authorization", "Bearer "+token); res.StatusCode != 404 {
		t.Errorf("catalog endpoint on B: %d %s", res.StatusCode, body)
	}

	// All three nodes are in the one catalog.
	code, out, errOut := run(t, "", "nodes", "list", "--json", "--catalog", catURL, "--data", dataC)
	if code != 0 || !strings.Contains(out, "node-a") || !strings.Contains(out, "node-b") || !strings.Contains(out, "node-c") {
		t.Fatalf("nodes list on the shared catalog: %d %s %s", code, out, errOut)
	}

	// A tenant created through A (the CLI on A's data directory) is
	// served by C, forwarded to A, within the resolution TTL.
	if code, _, errOut := run(t, "", "tenants", "create", "euro", "--region", "ams", "--data", dataA); code != 0 {
		t.Fatalf("create euro: %s", errOut)
	}
	created := time.Now()
	var seen time.Duration
	eventually(t, func() bool {
		res, body := c.call(t, "GET", "euro.localhost", "/api/tenant", nil)
		if res.StatusCode == 200 && res.Header.Get(api.NodeHeader) == "node-a" && strings.Contains(string(body), `"id":"euro"`) {
			seen = time.Since(created)
			return true
		}
		return false
	})
	t.Logf("a tenant created through A was served by C after %v (resolve TTL 200ms)", seen)
	if seen > 2*time.Second {
		t.Errorf("served by C only after %v", seen)
	}

	// One created through B's platform API (a platform admin of the
	// shared catalog, bootstrapped by A), its database on B's disk, is
	// served by C too, forwarded to B.
	code, plogin, _ := b.sendJSON(t, "POST", "localhost", "/platform/auth/login", "", map[string]string{"email": "admin@localhost", "password": adminPass})
	if code != 200 {
		t.Fatalf("platform login at B: %d %v", code, plogin)
	}
	code, created2, _ := b.sendJSON(t, "POST", "localhost", "/platform/tenants", jsonStr(plogin, "token"), map[string]any{"id": "plat", "region": "iad"})
	if code != 201 {
		t.Fatalf("platform create at B: %d %v", code, created2)
	}
	eventually(t, func() bool {
		res, _ := c.call(t, "GET", "plat.localhost", "/api/tenant", nil)
		return res.StatusCode == 200 && res.Header.Get(api.NodeHeader) == "node-b"
	})

	// A tenant created with the CLI against the shared catalog, its
	// database on B's disk: B serves it, an eu request at the us node is
	// forwarded home, and the us tenant at another node is forwarded too.
	if code, _, errOut := run(t, "", "tenants", "create", "yank", "--region", "iad", "--catalog", catURL, "--data", dataB); code != 0 {
		t.Fatalf("create yank: %s", errOut)
	}
	t.Setenv("CONDO_PASSWORD", "a password of yank's editor")
	if code, _, errOut := run(t, "", "users", "create", "yank", "ed@example.com", "--role", "editor", "--catalog", catURL, "--data", dataB); code != 0 {
		t.Fatalf("users create: %s", errOut)
	}
	code, out, _ = run(t, "", "tenants", "list", "--json", "--data", dataA) // A's file is the control plane
	if code != 0 || !strings.Contains(out, `"yank"`) {
		t.Fatalf("yank not in A's catalog: %s", out)
	}
	// On Fly.io a us node answers the eu tenant with fly-replay and no
	// body, from the shared catalog too.
	fly := startNode(t, t.TempDir(), "node-fly", "iad", "FLY_REGION=iad", "CONDO_CATALOG="+catURL)
	eventually(t, func() bool {
		res, body := fly.call(t, "GET", "euro.localhost", "/api/tenant", nil)
		return res.StatusCode == 409 && res.Header.Get("Fly-Replay") == "region=ams" && len(body) == 0
	})
	fly.cmd.Process.Signal(os.Interrupt) // a clean stop: the others stop sending it requests
	fly.cmd.Wait()

	want := map[*server]map[string]string{ // host → the node that answers
		a: {"euro.localhost": "node-a", "yank.localhost": "node-b"},
		b: {"euro.localhost": "node-a", "yank.localhost": "node-b"},
		c: {"euro.localhost": "node-a", "yank.localhost": "node-b"},
	}
	for s, hosts := range want {
		for host, node := range hosts {
			eventually(t, func() bool {
				res, _ := s.call(t, "GET", host, "/api/tenant", nil)
				return res.StatusCode == 200 && res.Header.Get(api.NodeHeader) == node
			})
		}
	}
	ready := func(s *server) (int, map[string]any) {
		res, body := s.call(t, "GET", "localhost", "/readyz", nil)
		var out map[string]any
		json.Unmarshal(body, &out)
		return res.StatusCode, out
	}
	if code, out := ready(c); code != 200 || out["status"] != "ready" {
		t.Fatalf("readyz of C: %d %v", code, out)
	}

	// The control plane goes down: A is killed.
	a.cmd.Process.Kill()
	a.cmd.Wait()
	time.Sleep(300 * time.Millisecond) // past the resolution TTL: every answer now is stale
	for _, s := range []*server{b, c} {
		for i := 0; i < 3; i++ {
			start := time.Now()
			res, body := s.call(t, "GET", "yank.localhost", "/api/tenant", nil)
			if res.StatusCode != 200 || res.Header.Get(api.NodeHeader) != "node-b" {
				t.Fatalf("yank with the control plane down: %d %s %s\n%s", res.StatusCode, res.Header.Get(api.NodeHeader), body, s.logs.String())
			}
			t.Logf("yank at %s with the control plane down: %v", res.Header.Get(api.NodeHeader), time.Since(start))
		}
		// Sign-in and an authenticated read of the known tenant work
		// too, at home (B) and forwarded (from C).
		res, body := s.call(t, "POST", "yank.localhost", "/auth/login", strings.NewReader(`{"email": "ed@example.com", "password": "a password of yank's editor"}`),
			"Content-Type", "application/json")
		var login struct{ Token string }
		if json.Unmarshal(body, &login); res.StatusCode != 200 || login.Token == "" {
			t.Fatalf("login to yank with the control plane down: %d %s", res.StatusCode, body)
		}
		if res, body := s.call(t, "GET", "yank.localhost", "/auth/me", nil, "Authorization", "Bearer "+login.Token); res.StatusCode != 200 {
			t.Errorf("me at yank with the control plane down: %d %s", res.StatusCode, body)
		}
		// euro's home (A) is gone: its region has no node left.
		if res, body := s.call(t, "GET", "euro.localhost", "/api/tenant", nil); res.StatusCode != 503 {
			t.Errorf("euro with its home down: %d %s", res.StatusCode, body)
		}
		if res, body := s.call(t, "GET", "nobody.localhost", "/api/tenant", nil); res.StatusCode != 503 || errorCode(body) != "catalog_unavailable" {
			t.Errorf("an unknown host with the control plane down: %d %s", res.StatusCode, body)
		}
		code, out := ready(s)
		cat, _ := out["catalog"].(map[string]any)
		if code != 200 || out["status"] != "degraded" || out["warning"] == nil || cat["reachable"] != false || cat["unreachable_since"] == nil || cat["stale_served"].(float64) < 1 {
			t.Errorf("readyz with the control plane down: %d %v", code, out)
		}
		if strings.Contains(s.logs.String(), token) {
			t.Errorf("a log shows the catalog token")
		}
	}
}

// Bad control-plane settings are refused with one line that shows no
// secret, and nothing is written.
func TestServe_BadCatalogSettings(t *testing.T) {
	const token = "a token that must never be shown"
	for _, c := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"serve-catalog without a token", []string{"CONDO_CATALOG_TOKEN="}, []string{"serve", "--serve-catalog"}, "needs CONDO_CATALOG_TOKEN"},
		{"serve-catalog with a short token", []string{"CONDO_CATALOG_TOKEN=short"}, []string{"serve", "--serve-catalog"}, "at least 16 bytes"},
		{"serve-catalog and catalog", []string{"CONDO_CATALOG_TOKEN=" + token}, []string{"serve", "--serve-catalog", "--catalog", "http://127.0.0.1:1/_condo/catalog"}, "cannot be combined"},
		{"not a libSQL URL", nil, []string{"serve", "--catalog", "ftp://example.com/x"}, "is not a libsql://"},
		{"a password in the URL", nil, []string{"tenants", "list", "--catalog", "https://user:hunter2@example.com/x"}, "must not carry credentials"},
		{"a token in the URL", nil, []string{"nodes", "list", "--catalog", "libsql://db.example.com?authToken=hunter2"}, "must not carry credentials"},
		{"nothing listening", []string{"CONDO_CATALOG_TOKEN=" + token}, []string{"serve", "--catalog", "http://127.0.0.1:1/_condo/catalog"}, "catalog"},
		{"operator command, nothing listening", []string{"CONDO_CATALOG_TOKEN=" + token}, []string{"tenants", "list", "--catalog", "http://127.0.0.1:1/_condo/catalog"}, "catalog"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, e := range c.env {
				k, v, _ := strings.Cut(e, "=")
				t.Setenv(k, v)
			}
			data := t.TempDir()
			args := append(c.args, "--data", data)
			if c.args[0] == "serve" {
				args = append(args, "--addr", "127.0.0.1:0")
			}
			code, _, errOut := run(t, "", args...)
			if code == 0 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("exit %d, stderr %q, want one line with %q", code, errOut, c.want)
			}
			if strings.Contains(errOut, token) || strings.Contains(errOut, "hunter2") {
				t.Errorf("a secret shown: %q", errOut)
			}
			if entries, _ := os.ReadDir(data); len(entries) != 0 {
				t.Errorf("refused, yet %s holds %d entries", data, len(entries))
			}
		})
	}
}

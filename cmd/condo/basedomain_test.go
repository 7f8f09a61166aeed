package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// A CLI started with another --base-domain than the server's could add a
// custom domain over a tenant's subdomain. The base domain is the
// catalog's now: a mismatched CLI is refused, and one without the flag
// checks against the server's.
func TestBaseDomain_MismatchedCLI(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "CONDO_BASE_DOMAIN=example.test")
	for _, id := range []string{"alpha", "bravo"} {
		if code, _, errOut := run(t, "", "tenants", "create", id, "--data", data); code != 0 {
			t.Fatalf("tenants create %s: %d %s", id, code, errOut)
		}
	}
	code, _, errOut := run(t, "", "domains", "add", "alpha", "bravo.example.test", "--data", data, "--base-domain", "other.test")
	if code != 1 || !strings.Contains(errOut, "base domain is example.test, not other.test") || !strings.Contains(errOut, "condo base-domain set") {
		t.Fatalf("mismatched CLI: %d %q", code, errOut)
	}
	code, _, errOut = run(t, "", "domains", "add", "alpha", "bravo.example.test", "--data", data)
	if code != 1 || !strings.Contains(errOut, "reserved for tenant subdomains") {
		t.Fatalf("CLI without --base-domain: %d %q", code, errOut)
	}
	eventually(t, func() bool {
		code, body := s.get(t, "bravo.example.test", "/api/tenant")
		return code == 200 && body["data"].(map[string]any)["id"] == "bravo"
	})

	// A server given another base domain than its catalog's refuses too.
	code, _, errOut = run(t, "", "serve", "--data", data, "--addr", "127.0.0.1:0", "--base-domain", "other.test")
	if code != 1 || !strings.Contains(errOut, "base domain is example.test, not other.test") {
		t.Fatalf("mismatched serve: %d %q", code, errOut)
	}
}

func TestBaseDomain_SetAndShow(t *testing.T) {
	data := t.TempDir()
	if code, _, errOut := run(t, "", "init", "--data", data, "--base-domain", "example.test"); code != 0 {
		t.Fatalf("init: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "", "tenants", "create", "alpha", "--data", data, "--domain", "bravo.other.test"); code != 0 {
		t.Fatalf("tenants create: %d %s", code, errOut)
	}
	show := func() string {
		t.Helper()
		code, out, errOut := run(t, "", "base-domain", "show", "--data", data, "--json")
		var v map[string]string
		if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
			t.Fatalf("base-domain show: %d %q %q", code, out, errOut)
		}
		return v["base_domain"]
	}
	if got := show(); got != "example.test" {
		t.Fatalf("base domain = %q, want the one init stored", got)
	}
	// Refused while a custom domain sits where a subdomain would be.
	code, _, errOut := run(t, "", "base-domain", "set", "other.test", "--data", data)
	if code != 1 || !strings.Contains(errOut, "bravo.other.test") {
		t.Fatalf("set over a custom domain: %d %q", code, errOut)
	}
	if code, _, errOut := run(t, "", "domains", "remove", "bravo.other.test", "--data", data); code != 0 {
		t.Fatalf("domains remove: %d %s", code, errOut)
	}
	// --base-domain (here the old value, as CONDO_BASE_DOMAIN would be)
	// does not stand in the way of the command that changes it.
	if code, out, errOut := run(t, "", "base-domain", "set", "Other.Test", "--data", data, "--base-domain", "example.test"); code != 0 || !strings.Contains(out, "now other.test (was example.test)") {
		t.Fatalf("base-domain set: %d %q %q", code, out, errOut)
	}
	if got := show(); got != "other.test" {
		t.Fatalf("after set: %q", got)
	}
	if code, _, _ := run(t, "", "tenants", "list", "--data", data, "--base-domain", "example.test"); code != 1 {
		t.Errorf("a command with the old base domain ran: %d", code)
	}
	if code, _, errOut := run(t, "", "base-domain", "set", "--data", data); code != 2 {
		t.Errorf("set without a domain: %d %q", code, errOut)
	}
}

// --default-tenant serves a tenant on hosts that match none, such as a
// first deploy's <app>.fly.dev, through the real server.
func TestServe_DefaultTenant(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "CONDO_DEFAULT_TENANT=default")
	for host, want := range map[string]int{
		"condo-app.fly.dev": 200, // matches no tenant: the default one
		"127.0.0.1":         200,
		"default.localhost": 200,
		"nobody.localhost":  404, // names a tenant that does not exist
	} {
		code, body := s.get(t, host, "/api/tenant")
		if code != want {
			t.Errorf("%s: %d %v, want %d", host, code, body, want)
			continue
		}
		if code == 200 && body["data"].(map[string]any)["id"] != "default" {
			t.Errorf("%s: %v, want the default tenant", host, body)
		}
	}

	missing := startServer(t, t.TempDir(), "CONDO_DEFAULT_TENANT=nobody")
	if code, _ := missing.get(t, "condo-app.fly.dev", "/api/tenant"); code != 404 {
		t.Errorf("a default tenant that does not exist: %d, want 404", code)
	}
	if !strings.Contains(missing.logs.String(), "the default tenant does not exist") {
		t.Errorf("no warning about a missing default tenant: %s", missing.logs.String())
	}
}

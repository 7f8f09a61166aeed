package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
)

// TestIsolation walks every registered route (so a route added later is
// covered without editing this test) and asks it, on tenant A's host, for
// tenant B by every means a request has: B's id in the path, the
// X-Tenant-ID header, and B's name in the query. Nothing of B may come
// back, and no attempt may be answered with a 5xx.
func TestIsolation(t *testing.T) {
	ctx := context.Background()
	env, srv, a := newAPIServer(t, catalog.Config{HeaderFallback: true}, tenantstore.Config{PoolSize: 4})
	if _, err := env.Store.Create(ctx, catalog.NewTenant{ID: "tenant-a", Name: "Alpha"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Create(ctx, catalog.NewTenant{ID: "tenant-b", Name: "Secret Bravo", Domains: []string{"bravo.example.com"}}); err != nil {
		t.Fatal(err)
	}
	routes := a.Routes()
	if len(routes) == 0 {
		t.Fatal("no routes")
	}
	for _, r := range routes {
		path := fill(r.Path, "tenant-b")
		for _, attempt := range []struct {
			name   string
			header []string
		}{
			{"Plain", nil},
			{"HeaderB", []string{"X-Tenant-ID", "tenant-b"}},
			{"ForwardedHostB", []string{"X-Forwarded-Host", "bravo.example.com"}},
		} {
			res := do(t, srv, r.Method, "tenant-a.localhost", path+"?tenant=tenant-b&tid=tenant-b", nil, attempt.header...)
			if res.Status >= 500 {
				t.Errorf("%s %s (%s): %d %+v", r.Method, path, attempt.name, res.Status, res.Raw)
			}
			b, _ := json.Marshal(res.Raw)
			if strings.Contains(string(b), "Secret Bravo") || strings.Contains(string(b), "bravo.example.com") {
				t.Errorf("%s %s (%s) on A's host leaked B: %s", r.Method, path, attempt.name, b)
			}
			if id, ok := res.Data["id"]; ok && id != "tenant-a" {
				t.Errorf("%s %s (%s) answered for %v", r.Method, path, attempt.name, id)
			}
		}
	}
}

// fill replaces every path parameter with value.
func fill(path, value string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || p == "*" {
			parts[i] = value
		}
	}
	return strings.Join(parts, "/")
}

package catalog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/sqlitedb"
)

func TestCatalog_BaseDomain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := mustOpen(t, dir, catalog.Config{BaseDomain: "Example.TEST."})
	if got := c.Config().BaseDomain; got != "example.test" {
		t.Fatalf("seeded base domain = %q", got)
	}

	t.Run("KeptInTheCatalog", func(t *testing.T) {
		other := mustOpen(t, dir, catalog.Config{}) // no base domain of its own
		if got := other.BaseDomain(ctx); got != "example.test" {
			t.Errorf("a process without --base-domain sees %q, want the catalog's", got)
		}
	})
	t.Run("MismatchRefused", func(t *testing.T) {
		_, err := catalog.Open(ctx, dir, catalog.Config{BaseDomain: "other.test"})
		if condo.ErrorReason(err) != "base_domain_mismatch" || !strings.Contains(err.Error(), "example.test") {
			t.Errorf("open with another base domain: %v, want base_domain_mismatch naming the catalog's", err)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		if _, err := catalog.Open(ctx, t.TempDir(), catalog.Config{BaseDomain: "not a domain"}); condo.ErrorReason(err) != "invalid_base_domain" {
			t.Errorf("open: %v", err)
		}
		if _, err := c.SetBaseDomain(ctx, "-bad-.test"); condo.ErrorReason(err) != "invalid_base_domain" {
			t.Errorf("set: %v", err)
		}
	})
	t.Run("SetChecksCustomDomains", func(t *testing.T) {
		mustCreate(t, c, "alpha", "bravo.new.test") // fine under example.test
		mustCreate(t, c, "bravo")
		_, err := c.SetBaseDomain(ctx, "new.test")
		if condo.ErrorReason(err) != "domains_under_base_domain" || !strings.Contains(err.Error(), "bravo.new.test") {
			t.Fatalf("set under a custom domain: %v", err)
		}
		if got := c.BaseDomain(ctx); got != "example.test" {
			t.Fatalf("a refused change changed the base domain to %q", got)
		}
		if _, err := c.RemoveDomain(ctx, "bravo.new.test"); err != nil {
			t.Fatal(err)
		}
		// Another process with a warm view of the old base domain.
		other := mustOpen(t, dir, catalog.Config{CacheTTL: 1}) // re-reads at once
		if got, err := other.ResolveHost(ctx, "bravo.example.test", ""); err != nil || got.ID != "bravo" {
			t.Fatalf("before: %v %v", got, err)
		}
		prev, err := c.SetBaseDomain(ctx, "new.test")
		if err != nil || prev != "example.test" {
			t.Fatalf("SetBaseDomain = %q, %v", prev, err)
		}
		for name, cat := range map[string]*catalog.Catalog{"this process": c, "another process": other} {
			if got, err := cat.ResolveHost(ctx, "bravo.new.test", ""); err != nil || got.ID != "bravo" {
				t.Errorf("%s: new subdomain: %v %v", name, got, err)
			}
			if _, err := cat.ResolveHost(ctx, "bravo.example.test", ""); condo.ErrorReason(err) != "tenant_not_found" {
				t.Errorf("%s: old subdomain: %v", name, err)
			}
			if _, err := cat.AddDomain(ctx, "alpha", "bravo.new.test", false); condo.ErrorReason(err) != "invalid_domain" {
				t.Errorf("%s: AddDomain under the new base domain: %v", name, err)
			}
		}
	})
}

// A custom domain that names a tenant's subdomain host (one added while
// the base domain was another) never wins over the tenant's subdomain.
func TestCatalog_SubdomainBeatsCustomDomain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old := mustOpen(t, dir, catalog.Config{BaseDomain: "old.test"})
	mustCreate(t, old, "alpha", "bravo.example.test", "nobody.example.test")
	mustCreate(t, old, "bravo")
	old.Close()
	// The catalog's base domain becomes example.test behind SetBaseDomain's
	// back, as an older binary could leave it.
	db, err := sqlitedb.Open(catalog.Path(dir), sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write.Exec("UPDATE meta SET value = 'example.test' WHERE key = ?", catalog.MetaBaseDomain); err != nil {
		t.Fatal(err)
	}
	db.Close()

	c := mustOpen(t, dir, catalog.Config{})
	for host, want := range map[string]string{
		"bravo.example.test":  "bravo", // the tenant's own subdomain wins
		"nobody.example.test": "alpha", // no tenant claims it: the custom domain still answers
	} {
		if got, err := c.ResolveHost(ctx, host, ""); err != nil || got.ID != want {
			t.Errorf("ResolveHost(%s) = %v, %v; want %s", host, got, err, want)
		}
	}
}

func TestCatalog_DefaultTenant(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{BaseDomain: "condo.test", HeaderFallback: true, DefaultTenant: "main"})
	mustCreate(t, c, "main")
	mustCreate(t, c, "acme", "acme.example.com")
	for _, tt := range []struct{ host, header, want string }{
		{"condo.fly.dev", "", "main"},                 // the platform's own address
		{"localhost:8080", "", "main"},                // a bare name
		{"203.0.113.7", "", "main"},                   // an IP address
		{"condo.test", "", "main"},                    // the base domain itself
		{"acme.example.com", "", "acme"},              // a custom domain
		{"acme.condo.test", "", "acme"},               // a subdomain
		{"nobody.example.org", "acme", "acme"},        // X-Tenant-ID comes first
		{"nobody.condo.test", "", "tenant_not_found"}, // names a tenant that does not exist
	} {
		got, err := c.ResolveHost(ctx, tt.host, tt.header)
		id := condo.ErrorReason(err)
		if err == nil {
			id = got.ID
		}
		if id != tt.want {
			t.Errorf("ResolveHost(%q, %q) = %q (%v), want %q", tt.host, tt.header, id, err, tt.want)
		}
	}
	if _, err := catalog.Open(ctx, t.TempDir(), catalog.Config{DefaultTenant: "../x"}); condo.ErrorCode(err) != condo.EINVALID {
		t.Errorf("a malformed default tenant: %v", err)
	}
}

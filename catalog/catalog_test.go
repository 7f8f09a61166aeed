package catalog_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

func mustOpen(tb testing.TB, dir string, cfg catalog.Config) *catalog.Catalog {
	tb.Helper()
	c, err := openBackend(tb, dir, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func mustCreate(tb testing.TB, c *catalog.Catalog, id string, domains ...string) {
	tb.Helper()
	if _, err := c.CreateTenant(context.Background(), catalog.NewTenant{ID: id, Domains: domains}, nil); err != nil {
		tb.Fatal(err)
	}
}

func TestCatalog_ResolveHost(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{BaseDomain: "condo.test", HeaderFallback: true})
	mustCreate(t, c, "acme", "acme.example.com", "www.acme.example.com")
	mustCreate(t, c, "beta")
	// A custom domain that looks like another tenant's subdomain is refused.
	if _, err := c.AddDomain(ctx, "acme", "beta.condo.test", false); condo.ErrorCode(err) != condo.EINVALID {
		t.Errorf("AddDomain under the base domain: %v, want EINVALID", err)
	}

	tests := []struct {
		name, host, header string
		want               string // tenant id, or the error reason
	}{
		{"CustomDomain", "acme.example.com", "", "acme"},
		{"SecondDomain", "www.acme.example.com", "", "acme"},
		{"UpperCasePortDot", "ACME.Example.com.:8443", "", "acme"},
		{"Subdomain", "beta.condo.test", "", "beta"},
		{"SubdomainWithPort", "beta.condo.test:8080", "", "beta"},
		{"UnknownSubdomain", "gamma.condo.test", "", "tenant_not_found"},
		{"NestedSubdomain", "x.beta.condo.test", "", "tenant_not_found"},
		{"BaseDomainItself", "condo.test", "", "tenant_not_found"},
		{"Empty", "", "", "tenant_not_found"},
		{"Garbage", "../../etc/passwd", "", "tenant_not_found"},
		{"HugeHost", strings.Repeat("a", 5000) + ".condo.test", "", "tenant_not_found"},
		{"HeaderFallback", "unknown.example.org", "beta", "beta"},
		{"HostBeatsHeader", "acme.example.com", "beta", "acme"},
		{"BadHeader", "unknown.example.org", "../beta", "invalid_tenant_id"},
		{"UnknownHeader", "unknown.example.org", "nobody", "tenant_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.ResolveHost(ctx, tt.host, tt.header)
			id := ""
			if err != nil {
				id = condo.ErrorReason(err)
			} else {
				id = got.ID
			}
			if id != tt.want {
				t.Errorf("ResolveHost(%.40q, %q) = %q (%v), want %q", tt.host, tt.header, id, err, tt.want)
			}
		})
	}

	t.Run("Status", func(t *testing.T) {
		for _, s := range []struct{ status, reason, code string }{
			{catalog.StatusSuspended, "tenant_suspended", condo.EFORBIDDEN},
			{catalog.StatusArchived, "tenant_archived", condo.EGONE},
		} {
			mustCreate(t, c, "s-"+s.status)
			host := "s-" + s.status + ".condo.test"
			if _, err := c.ResolveHost(ctx, host, ""); err != nil { // warm the cache
				t.Fatal(err)
			}
			if _, err := c.SetStatus(ctx, "s-"+s.status, s.status); err != nil {
				t.Fatal(err)
			}
			_, err := c.ResolveHost(ctx, host, "")
			if condo.ErrorReason(err) != s.reason || condo.ErrorCode(err) != s.code {
				t.Errorf("%s: %v (%s), want %s", s.status, err, condo.ErrorCode(err), s.reason)
			}
		}
		if _, err := c.SetStatus(ctx, "s-archived", catalog.StatusSuspended); condo.ErrorCode(err) != condo.ECONFLICT {
			t.Errorf("suspend an archived tenant: %v, want ECONFLICT", err)
		}
	})

	t.Run("InvalidatedInProcess", func(t *testing.T) {
		if _, err := c.ResolveHost(ctx, "new.example.com", ""); condo.ErrorCode(err) != condo.ENOTFOUND {
			t.Fatalf("before: %v", err)
		}
		if _, err := c.AddDomain(ctx, "beta", "new.example.com", false); err != nil {
			t.Fatal(err)
		}
		if got, err := c.ResolveHost(ctx, "new.example.com", ""); err != nil || got.ID != "beta" {
			t.Fatalf("after add: %v, %v; the cached miss was not invalidated", got, err)
		}
		if _, err := c.RemoveDomain(ctx, "new.example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ResolveHost(ctx, "new.example.com", ""); condo.ErrorCode(err) != condo.ENOTFOUND {
			t.Fatalf("after remove: %v, want not found", err)
		}
	})
}

// Another process (here: another Catalog on the same file) changes
// routing; this one sees it within its TTL, without a restart.
func TestCatalog_ResolveHost_OtherProcess(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	server := mustOpen(t, dir, catalog.Config{CacheTTL: 50 * time.Millisecond})
	cli := mustOpen(t, dir, catalog.Config{})
	if _, err := server.ResolveHost(ctx, "late.localhost", ""); condo.ErrorCode(err) != condo.ENOTFOUND {
		t.Fatalf("before: %v", err)
	}
	mustCreate(t, cli, "late")
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := server.ResolveHost(ctx, "late.localhost", "")
		if err == nil && got.ID == "late" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("change from another process not seen: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := cli.SetStatus(ctx, "late", catalog.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := server.ResolveHost(ctx, "late.localhost", "")
		if condo.ErrorReason(err) == "tenant_suspended" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("suspension from another process not seen: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCatalog_Domains(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{})
	mustCreate(t, c, "a", "a.example.com")
	mustCreate(t, c, "b")
	bad := []string{"", "A.example.com", "example", "-a.example.com", "a..example.com", "a.example.com.", "a.example.com:80",
		"http://a.example.com", "a.example.com/x", "a b.example.com", strings.Repeat("a", 64) + ".com", "é.example.com"}
	for _, d := range bad {
		if _, err := c.AddDomain(ctx, "b", d, false); condo.ErrorCode(err) != condo.EINVALID {
			t.Errorf("AddDomain(%q) = %v, want EINVALID", d, err)
		}
	}
	if _, err := c.AddDomain(ctx, "b", "a.example.com", false); condo.ErrorReason(err) != "domain_taken" {
		t.Errorf("taken domain: %v, want domain_taken", err)
	}
	if _, err := c.AddDomain(ctx, "nobody", "n.example.com", false); condo.ErrorReason(err) != "tenant_not_found" {
		t.Errorf("unknown tenant: %v", err)
	}
	if _, err := c.AddDomain(ctx, "a", "a2.example.com", true); err != nil {
		t.Fatal(err)
	}
	ds, err := c.Domains(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].Domain != "a2.example.com" || !ds[0].Primary || ds[1].Primary {
		t.Errorf("domains = %+v, want a2 primary first", ds)
	}
	list, _, err := c.Tenants(ctx, catalog.TenantFilter{})
	if err != nil || len(list) != 2 || len(list[0].Domains) != 2 || list[0].Domains[0].Domain != "a2.example.com" ||
		list[1].Domains == nil || len(list[1].Domains) != 0 {
		t.Errorf("Tenants = %+v (%v), want a with its two domains, primary first, and b with none", list, err)
	}
	if _, err := c.RemoveDomain(ctx, "a2.example.com"); err != nil {
		t.Fatal(err)
	}
	ds, _ = c.Domains(ctx, "a")
	if len(ds) != 1 || !ds[0].Primary {
		t.Errorf("after removing the primary: %+v, want the other promoted", ds)
	}
	if _, err := c.RemoveDomain(ctx, "none.example.com"); condo.ErrorCode(err) != condo.ENOTFOUND {
		t.Errorf("remove unknown: %v", err)
	}
}

func TestCatalog_CreateTenant(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{})
	for _, in := range []catalog.NewTenant{
		{ID: "ok", Plan: "platinum"},
		{ID: "ok", Name: strings.Repeat("x", 201)},
		{ID: "ok", Name: "\xff\xfe"},
		{ID: "ok", Region: "Not A Region"},
		{ID: "ok", Domains: []string{"bad domain"}},
		{ID: "ok", Domains: []string{"other.localhost"}}, // another tenant's subdomain host
		{ID: "platform"},
		{ID: "www"},
	} {
		if _, err := c.CreateTenant(ctx, in, nil); condo.ErrorCode(err) != condo.EINVALID {
			t.Errorf("CreateTenant(%+v) = %v, want EINVALID", in, err)
		}
	}
	// provision failing rolls the rows back.
	_, err := c.CreateTenant(ctx, catalog.NewTenant{ID: "ok", Domains: []string{"ok.example.com"}}, func() error {
		return condo.Errorf(condo.EUNAVAILABLE, "disk full")
	})
	if condo.ErrorCode(err) != condo.EUNAVAILABLE {
		t.Fatalf("provision error: %v", err)
	}
	if _, err := c.Tenant(ctx, "ok"); condo.ErrorCode(err) != condo.ENOTFOUND {
		t.Errorf("row left after failed provision: %v", err)
	}
	if ds, _ := c.Domains(ctx, ""); len(ds) != 0 {
		t.Errorf("domains left after failed provision: %+v", ds)
	}
	ten, err := c.CreateTenant(ctx, catalog.NewTenant{ID: "ok", Name: "Ok Corp", Plan: "pro", Region: "ams"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ten.Name != "Ok Corp" || ten.Plan != "pro" || ten.UserLimit != 100 || ten.Region != "ams" || ten.Status != "active" {
		t.Errorf("tenant = %+v", ten)
	}
	list, total, err := c.Tenants(ctx, catalog.TenantFilter{Query: "corp"})
	if err != nil || total != 1 || len(list) != 1 || list[0].ID != "ok" {
		t.Errorf("Tenants(query corp) = %v, %d, %v", list, total, err)
	}
}

func TestCatalog_Admins(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{})
	if _, err := c.CreateAdmin(ctx, "Ops@Example.com", "short"); condo.ErrorCode(err) != condo.EINVALID {
		t.Errorf("short password: %v", err)
	}
	if _, err := c.CreateAdmin(ctx, "not an email", "long enough password"); condo.ErrorCode(err) != condo.EINVALID {
		t.Errorf("bad email: %v", err)
	}
	a, err := c.CreateAdmin(ctx, "Ops@Example.com", "long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if a.Email != "ops@example.com" {
		t.Errorf("email = %q, want lower case", a.Email)
	}
	if _, err := c.CreateAdmin(ctx, "ops@example.com", "another long password"); condo.ErrorCode(err) != condo.ECONFLICT {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := c.AuthenticateAdmin(ctx, "ops@example.com", "long enough password"); err != nil {
		t.Errorf("right password: %v", err)
	}
	for _, bad := range [][2]string{{"ops@example.com", "wrong password!!"}, {"nobody@example.com", "long enough password"}} {
		if _, err := c.AuthenticateAdmin(ctx, bad[0], bad[1]); condo.ErrorCode(err) != condo.EUNAUTHORIZED {
			t.Errorf("AuthenticateAdmin(%s) = %v, want EUNAUTHORIZED", bad[0], err)
		}
	}
}

func TestOpen_BadDataDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o600)
	_, err := catalog.Open(context.Background(), filepath.Join(file, "data"), catalog.Config{})
	if condo.ErrorCode(err) != condo.EINVALID || !strings.Contains(err.Error(), "data directory") {
		t.Errorf("Open under a file = %v, want a clear EINVALID", err)
	}
}

// NoteWebhookEvents marks a tenant with endpoints as written by this
// process; a tenant without endpoints is not listed.
func TestCatalog_WebhookTenantsWritten(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{})
	mustCreate(t, c, "hooked")
	mustCreate(t, c, "plain")
	if err := c.SetWebhookTenant(ctx, "hooked", true); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	for _, id := range []string{"hooked", "plain"} {
		if err := c.NoteWebhookEvents(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if ids, err := c.WebhookTenantsWritten(ctx, before); err != nil || len(ids) != 1 || ids[0] != "hooked" {
		t.Fatalf("written: %v %v, want hooked", ids, err)
	}
	if ids, err := c.WebhookTenantsWritten(ctx, time.Now().Add(time.Hour)); err != nil || len(ids) != 0 {
		t.Fatalf("written later: %v %v, want none", ids, err)
	}
}

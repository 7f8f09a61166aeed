package catalog_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// Every control-plane change leaves one entry naming its actor, with the
// record before and after; a refused change leaves none; no entry holds a
// password or its hash.
func TestAudit_RecordsControlPlaneChanges(t *testing.T) {
	c := mustOpen(t, t.TempDir(), catalog.Config{})
	ctx := catalog.WithActor(context.Background(), "admin:ops@example.com")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.CreateTenant(ctx, catalog.NewTenant{ID: "acme", Domains: []string{"acme.example"}}, nil)
	must(err)
	plan := "pro"
	_, err = c.UpdateTenant(ctx, "acme", catalog.TenantUpdate{Plan: &plan})
	must(err)
	_, err = c.SetStatus(ctx, "acme", catalog.StatusSuspended)
	must(err)
	_, err = c.SetTenantSetting(ctx, "acme", "cors", json.RawMessage(`{"origins":["https://a.example"]}`))
	must(err)
	_, err = c.AddDomain(ctx, "acme", "www.acme.example", false)
	must(err)
	_, err = c.RemoveDomain(ctx, "acme.example")
	must(err)
	_, err = c.CreateAdmin(context.Background(), "root@example.com", "a long chosen password")
	must(err)
	must(c.SetSchemaTarget(ctx, 3))
	must(c.ClearSchemaTarget(ctx))
	_, err = c.SetBaseDomain(ctx, "condo.example")
	must(err)

	// Refused changes record nothing.
	bad := "nonsense"
	if _, err := c.UpdateTenant(ctx, "acme", catalog.TenantUpdate{Plan: &bad}); condo.ErrorCode(err) != condo.EINVALID {
		t.Fatalf("bad plan: %v", err)
	}
	if _, err := c.AddDomain(ctx, "acme", "www.acme.example", false); condo.ErrorCode(err) != condo.ECONFLICT {
		t.Fatalf("taken domain: %v", err)
	}
	if _, err := c.CreateTenant(ctx, catalog.NewTenant{ID: "acme"}, nil); condo.ErrorCode(err) != condo.ECONFLICT {
		t.Fatalf("existing tenant: %v", err)
	}

	entries, err := c.Audit(context.Background(), catalog.AuditFilter{})
	must(err)
	var actions []string
	for i := len(entries) - 1; i >= 0; i-- {
		actions = append(actions, entries[i].Action)
	}
	want := "tenant.create tenant.update tenant.status tenant.setting domain.add domain.remove admin.create fleet.schema_target fleet.schema_target platform.base_domain"
	if got := strings.Join(actions, " "); got != want {
		t.Fatalf("actions:\n got %s\nwant %s", got, want)
	}
	byAction := map[string]catalog.AuditEntry{}
	for _, e := range entries {
		byAction[e.Action] = e
		if strings.Contains(string(e.Before)+string(e.After), "$2a$") || strings.Contains(string(e.After), "a long chosen password") {
			t.Fatalf("%s holds a password or its hash: %s", e.Action, e.After)
		}
	}
	if e := byAction["tenant.update"]; e.Actor != "admin:ops@example.com" || e.TenantID != "acme" ||
		!strings.Contains(string(e.Before), `"plan":"free"`) || !strings.Contains(string(e.After), `"plan":"pro"`) {
		t.Fatalf("tenant.update = %+v", e)
	}
	if e := byAction["domain.remove"]; e.Target != "acme.example" || e.After != nil || !strings.Contains(string(e.Before), `"acme.example"`) {
		t.Fatalf("domain.remove = %+v", e)
	}
	if e := byAction["admin.create"]; e.Actor != "system" || e.Target != "root@example.com" {
		t.Fatalf("admin.create = %+v", e)
	}
	if e := byAction["tenant.create"]; !strings.Contains(string(e.After), `"domain":"acme.example"`) || e.Before != nil {
		t.Fatalf("tenant.create = %+v", e)
	}
	// Filters and paging.
	one, err := c.Audit(context.Background(), catalog.AuditFilter{TenantID: "acme", Limit: 2})
	must(err)
	if len(one) != 2 || one[0].Action != "domain.remove" {
		t.Fatalf("first page of acme: %+v", one)
	}
	next, err := c.Audit(context.Background(), catalog.AuditFilter{TenantID: "acme", Before: one[1].ID, Limit: 100})
	must(err)
	if len(next) != 4 {
		t.Fatalf("second page of acme: %d entries", len(next))
	}
}

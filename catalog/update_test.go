package catalog_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/plans"
)

func TestCatalog_UpdateTenant(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{})
	mustCreate(t, c, "acme", "acme.example.com")
	ptr := func(s string) *string { return &s }
	n := func(v int64) *int64 { return &v }
	pro, ent := plans.Builtin().For("pro"), plans.Builtin().For("enterprise")

	// Each step applies to the tenant as the step before left it.
	steps := []struct {
		name string
		in   catalog.TenantUpdate
		want func(*catalog.Tenant) bool
	}{
		{"Nothing", catalog.TenantUpdate{}, func(t *catalog.Tenant) bool { return t.Name == "acme" && t.Plan == "free" }},
		{"Name", catalog.TenantUpdate{Name: ptr("Acme Inc. ✓")}, func(t *catalog.Tenant) bool { return t.Name == "Acme Inc. ✓" }},
		{"PlanBringsLimits", catalog.TenantUpdate{Plan: ptr("pro")}, func(t *catalog.Tenant) bool {
			return t.Plan == "pro" && t.StorageQuota == pro.StorageQuota && t.UserLimit == pro.UserLimit
		}},
		{"Limits", catalog.TenantUpdate{StorageQuota: n(5), UserLimit: n(0)}, func(t *catalog.Tenant) bool {
			return t.Plan == "pro" && t.StorageQuota == 5 && t.UserLimit == 0
		}},
		{"SamePlanKeepsLimits", catalog.TenantUpdate{Plan: ptr("pro")}, func(t *catalog.Tenant) bool {
			return t.StorageQuota == 5 && t.UserLimit == 0
		}},
		{"PlanWithOneLimit", catalog.TenantUpdate{Plan: ptr("enterprise"), UserLimit: n(7)}, func(t *catalog.Tenant) bool {
			return t.Plan == "enterprise" && t.StorageQuota == ent.StorageQuota && t.UserLimit == 7
		}},
		{"Branding", catalog.TenantUpdate{Branding: json.RawMessage(` { "color" : "#ff0000", "logo": null } `)}, func(t *catalog.Tenant) bool {
			return string(t.Branding) == `{"color":"#ff0000","logo":null}`
		}},
		{"LargestBranding", catalog.TenantUpdate{Branding: branding(catalog.MaxBranding)}, func(t *catalog.Tenant) bool {
			return len(t.Branding) == catalog.MaxBranding
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			got, err := c.UpdateTenant(ctx, "acme", s.in)
			if err != nil {
				t.Fatal(err)
			}
			if !s.want(got) {
				t.Errorf("after the update: %+v", got)
			}
			// What was returned is what was stored, and what routing sees.
			stored, _ := c.Tenant(ctx, "acme")
			resolved, err := c.ResolveHost(ctx, "acme.example.com", "")
			if err != nil || !s.want(stored) || !s.want(resolved) || len(stored.Domains) != 1 {
				t.Errorf("stored %+v, resolved %+v (%v)", stored, resolved, err)
			}
		})
	}

	before, _ := c.Tenant(ctx, "acme")
	for _, tc := range []struct {
		name, id string
		in       catalog.TenantUpdate
		reason   string
	}{
		{"BadID", "../acme", catalog.TenantUpdate{Name: ptr("x")}, "invalid_tenant_id"},
		{"UnknownTenant", "nobody", catalog.TenantUpdate{Name: ptr("x")}, "tenant_not_found"},
		{"UnknownTenantNoFields", "nobody", catalog.TenantUpdate{}, "tenant_not_found"},
		{"EmptyName", "acme", catalog.TenantUpdate{Name: ptr(" ")}, "invalid_name"},
		{"LongName", "acme", catalog.TenantUpdate{Name: ptr(strings.Repeat("x", 201))}, "invalid_name"},
		{"BadUTF8Name", "acme", catalog.TenantUpdate{Name: ptr("a\xff")}, "invalid_name"},
		{"UnknownPlan", "acme", catalog.TenantUpdate{Plan: ptr("platinum")}, "invalid_plan"},
		{"EmptyPlan", "acme", catalog.TenantUpdate{Plan: ptr("")}, "invalid_plan"},
		{"NegativeQuota", "acme", catalog.TenantUpdate{StorageQuota: n(-1)}, "invalid_limit"},
		{"NegativeUsers", "acme", catalog.TenantUpdate{UserLimit: n(-1)}, "invalid_limit"},
		{"BrandingArray", "acme", catalog.TenantUpdate{Branding: json.RawMessage(`[]`)}, "invalid_branding"},
		{"BrandingNull", "acme", catalog.TenantUpdate{Branding: json.RawMessage(`null`)}, "invalid_branding"},
		{"BrandingEmpty", "acme", catalog.TenantUpdate{Branding: json.RawMessage(``)}, "invalid_branding"},
		{"BrandingNotJSON", "acme", catalog.TenantUpdate{Branding: json.RawMessage(`{"a":`)}, "invalid_branding"},
		{"BrandingBadUTF8", "acme", catalog.TenantUpdate{Branding: json.RawMessage("{\"a\":\"\xff\"}")}, "invalid_branding"},
		{"BrandingTooBig", "acme", catalog.TenantUpdate{Branding: branding(catalog.MaxBranding + 1)}, "invalid_branding"},
		{"BrandingHuge", "acme", catalog.TenantUpdate{Branding: branding(1 << 20)}, "invalid_branding"},
		// One bad field refuses the whole update.
		{"GoodAndBad", "acme", catalog.TenantUpdate{Name: ptr("Changed"), Plan: ptr("free"), UserLimit: n(-5)}, "invalid_limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.UpdateTenant(ctx, tc.id, tc.in)
			if got := condo.ErrorReason(err); got != tc.reason {
				t.Errorf("UpdateTenant = %v (%s), want %s", err, got, tc.reason)
			}
			if len(condo.ErrorMessage(err)) > 200 {
				t.Errorf("message of %d bytes", len(condo.ErrorMessage(err)))
			}
		})
	}
	after, _ := c.Tenant(ctx, "acme")
	if a, b := marshal(t, after), marshal(t, before); a != b {
		t.Errorf("refused updates changed the tenant:\n%s\nwas\n%s", a, b)
	}
}

// branding returns a compact JSON object of exactly n bytes.
func branding(n int) json.RawMessage {
	const frame = `{"pad":""}`
	return json.RawMessage(`{"pad":"` + strings.Repeat("x", n-len(frame)) + `"}`)
}

func marshal(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

package catalog_test

import (
	"context"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/plans"
)

// TestCatalog_Plans: a catalog holds tenants to its plans: a new tenant
// and a plan change take the plan's quota and user limit, an unknown plan
// is refused, and custom domains stop at the plan's count.
func TestCatalog_Plans(t *testing.T) {
	ps, err := plans.Parse([]byte("plans:\n  free:\n    storage_quota: 1MB\n    user_limit: 2\n    custom_domains: 1\n  big:\n    storage_quota: 1GB\n    user_limit: 50\n    custom_domains: unlimited\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{Plans: ps})
	mustCreate(t, c, "a", "a.example.com")
	ten, err := c.Tenant(ctx, "a")
	if err != nil || ten.StorageQuota != 1_000_000 || ten.UserLimit != 2 {
		t.Fatalf("new tenant %+v, %v: want free's limits", ten, err)
	}
	if _, err := c.AddDomain(ctx, "a", "a2.example.com", false); condo.ErrorReason(err) != "plan_limit_reached" {
		t.Fatalf("second domain on free: %v, want plan_limit_reached", err)
	}
	if _, err := c.CreateTenant(ctx, catalog.NewTenant{ID: "b", Plan: "pro"}, nil); condo.ErrorReason(err) != "invalid_plan" {
		t.Fatalf("a plan the file does not name: %v, want invalid_plan", err)
	}
	big := "big"
	if ten, err = c.UpdateTenant(ctx, "a", catalog.TenantUpdate{Plan: &big}); err != nil || ten.StorageQuota != 1_000_000_000 || ten.UserLimit != 50 {
		t.Fatalf("after the change %+v, %v", ten, err)
	}
	if _, err := c.AddDomain(ctx, "a", "a2.example.com", false); err != nil {
		t.Fatalf("second domain on big: %v", err)
	}
	if got := c.Plans().For("gone").Name; got != "free" {
		t.Fatalf("an unknown plan is held to %s, want free", got)
	}
}

package catalog_test

import (
	"context"
	"fmt"
	"strconv"
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

// TestCatalog_LimitsFollowThePlan: a tenant's limits follow its plan's
// definition across a change of the plans file, unless an operator set
// its own (those stay, and a move to another plan drops them); tenants
// from before limits_custom existed are told apart by their values once.
func TestCatalog_LimitsFollowThePlan(t *testing.T) {
	ctx := context.Background()
	plansOf := func(quota string, users int) *plans.Set {
		ps, err := plans.Parse([]byte("plans:\n  free:\n    storage_quota: 1MB\n  starter:\n    storage_quota: " + quota + "\n    user_limit: " + strconv.Itoa(users) + "\n  big:\n    storage_quota: 1GB\n    user_limit: 50\n"))
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	limits := func(c *catalog.Catalog, id string) (int64, int64, []string) {
		ten, err := c.Tenant(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return ten.StorageQuota, ten.UserLimit, ten.CustomLimits
	}
	dir := t.TempDir()
	c := mustOpen(t, dir, catalog.Config{Plans: plansOf("100MB", 5)})
	for _, id := range []string{"plain", "custom", "mover", "old-plain", "old-custom"} {
		if _, err := c.CreateTenant(ctx, catalog.NewTenant{ID: id, Plan: "starter"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	five := int64(5_000_000)
	if _, err := c.UpdateTenant(ctx, "custom", catalog.TenantUpdate{StorageQuota: &five}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateTenant(ctx, "mover", catalog.TenantUpdate{StorageQuota: &five}); err != nil {
		t.Fatal(err)
	}
	big := "big"
	if _, err := c.UpdateTenant(ctx, "mover", catalog.TenantUpdate{Plan: &big}); err != nil {
		t.Fatal(err)
	}
	// Two tenants as a catalog from before migration 000013 has them: no
	// bits, and one with a limit an operator set then.
	db := c.LocalDB()
	if _, err := db.Writer().ExecContext(ctx, "UPDATE tenants SET limits_custom = 0, storage_quota = 7000000 WHERE id = 'old-custom'"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Writer().ExecContext(ctx, "DELETE FROM meta WHERE key = ?", catalog.MetaLimitsBackfilled); err != nil {
		t.Fatal(err)
	}
	c.Close()
	// The first open of a catalog by this binary tells them apart, with
	// the plans that wrote them; then the plans file changes.
	mustOpen(t, dir, catalog.Config{Plans: plansOf("100MB", 5)}).Close()
	c = mustOpen(t, dir, catalog.Config{Plans: plansOf("200MB", 8)})
	for _, tc := range []struct {
		id           string
		quota, users int64
		custom       string
	}{
		{"plain", 200_000_000, 8, ""},
		{"custom", 5_000_000, 8, "[storage_quota]"},
		{"mover", 1_000_000_000, 50, ""},
		{"old-plain", 200_000_000, 8, ""},
		{"old-custom", 7_000_000, 8, "[storage_quota]"},
	} {
		q, u, custom := limits(c, tc.id)
		if q != tc.quota || u != tc.users || (len(custom) > 0 || tc.custom != "") && fmt.Sprint(custom) != tc.custom {
			t.Errorf("%s: quota %d, users %d, custom %v; want %d, %d, %s", tc.id, q, u, custom, tc.quota, tc.users, tc.custom)
		}
	}
}

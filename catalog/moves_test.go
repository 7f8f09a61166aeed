package catalog_test

import (
	"context"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// A move is refused outside the residency set; one live move per tenant;
// the flip raises the epoch once, and a second flip of the same epoch is
// refused (stale_epoch).
func TestMoves_FlipOnce(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{ResidencySets: catalog.ResidencySets{"eu": {"ams", "fra"}}})
	if _, err := c.CreateTenant(ctx, catalog.NewTenant{ID: "acme", Region: "ams", Residency: "eu"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartMove(ctx, catalog.NewMove{TenantID: "acme", ToRegion: "iad", ToNode: "n2"}); condo.ErrorReason(err) != "residency_violation" {
		t.Fatalf("move out of the residency set: %v", err)
	}
	if _, err := c.StartMove(ctx, catalog.NewMove{TenantID: "acme", ToRegion: "ams", ToNode: "n2"}); condo.ErrorReason(err) != "already_home" {
		t.Fatalf("move home: %v", err)
	}
	m, err := c.StartMove(ctx, catalog.NewMove{TenantID: "acme", ToRegion: "fra", ToNode: "n2"})
	if err != nil || m.State != catalog.MoveCopying || m.Epoch != 0 || m.FromRegion != "ams" {
		t.Fatalf("start: %+v %v", m, err)
	}
	if _, err := c.StartMove(ctx, catalog.NewMove{TenantID: "acme", ToRegion: "fra", ToNode: "n2"}); condo.ErrorReason(err) != "move_in_progress" {
		t.Fatalf("second live move: %v", err)
	}
	if ok, err := c.ClaimMove(ctx, m.ID, "n1"); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if ok, _ := c.ClaimMove(ctx, m.ID, "n3"); ok {
		t.Fatal("claimed twice")
	}
	if err := c.UpdateMove(ctx, m.ID, catalog.MoveUpdate{State: ptr(catalog.MoveCatchingUp)}); err != nil {
		t.Fatal(err)
	}
	if err := c.FlipHome(ctx, m); err != nil {
		t.Fatal(err)
	}
	ten, _ := c.Tenant(ctx, "acme")
	got, _ := c.Move(ctx, m.ID)
	if ten.Region != "fra" || ten.Epoch != 1 || got.State != catalog.MoveFlipped {
		t.Fatalf("after the flip: %s %d %s", ten.Region, ten.Epoch, got.State)
	}
	if err := c.FlipHome(ctx, m); condo.ErrorReason(err) != "stale_epoch" {
		t.Fatalf("second flip: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

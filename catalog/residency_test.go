package catalog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

func TestResidency_Parse(t *testing.T) {
	sets, err := catalog.ParseResidencySets(" eu=ams, fra,cdg ; us=iad,ord;")
	if err != nil {
		t.Fatal(err)
	}
	if got := sets.String(); got != "eu=ams,fra,cdg;us=iad,ord" {
		t.Errorf("parsed %q", got)
	}
	if sets, err := catalog.ParseResidencySets(""); err != nil || len(sets) != 0 {
		t.Errorf("empty: %v, %v", sets, err)
	}
	for text, want := range map[string]string{
		"eu":              "has no regions",
		"EU=ams":          "not a label",
		"eu=ams;eu=fra":   "given twice",
		"eu=ams,,fra":     "is not a region",
		"eu=Amsterdam":    "is not a region",
		"eu=ams;=fra":     "not a label",
		"eu=ams fra":      "is not a region",
		"eu=ams\nus=iad":  "is not a region",
		"e_u=ams":         "not a label",
		"eu=" + "ams,x!y": "is not a region",
	} {
		_, err := catalog.ParseResidencySets(text)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want one line with %q", text, err, want)
		}
	}
}

func TestResidency_Check(t *testing.T) {
	sets, _ := catalog.ParseResidencySets("eu=ams,fra;us=iad")
	for _, c := range []struct{ set, region, reason string }{
		{"", "", ""}, {"", "iad", ""}, {"eu", "ams", ""}, {"eu", "fra", ""}, {"us", "iad", ""},
		{"eu", "iad", "residency_violation"}, {"us", "ams", "residency_violation"},
		{"eu", "", "region_required"}, {"apac", "syd", "unknown_residency"},
	} {
		err := sets.Check(c.set, c.region)
		if condo.ErrorReason(err) != c.reason || (c.reason != "" && condo.ErrorCode(err) != condo.EINVALID) {
			t.Errorf("Check(%q, %q) = %v, want %q", c.set, c.region, err, c.reason)
		}
		if allowed := sets.Allows(c.set, c.region); c.set != "" && allowed != (c.reason == "") {
			t.Errorf("Allows(%q, %q) = %v", c.set, c.region, allowed)
		}
	}
	var none catalog.ResidencySets
	if err := none.Check("eu", "ams"); condo.ErrorReason(err) != "unknown_residency" {
		t.Errorf("no sets: %v", err)
	}
}

func TestResidency_CreateTenant(t *testing.T) {
	ctx := context.Background()
	sets, _ := catalog.ParseResidencySets("eu=ams,fra;us=iad")
	c := mustOpen(t, t.TempDir(), catalog.Config{Region: "ams", ResidencySets: sets})
	for _, bad := range []struct {
		in     catalog.NewTenant
		reason string
	}{
		{catalog.NewTenant{ID: "a", Residency: "eu", Region: "iad"}, "residency_violation"},
		{catalog.NewTenant{ID: "b", Residency: "us"}, "residency_violation"}, // this node's ams
		{catalog.NewTenant{ID: "c", Residency: "apac", Region: "syd"}, "unknown_residency"},
	} {
		if _, err := c.CreateTenant(ctx, bad.in, nil); condo.ErrorReason(err) != bad.reason {
			t.Errorf("%+v: %v, want %s", bad.in, err, bad.reason)
		}
		if _, err := c.Tenant(ctx, bad.in.ID); condo.ErrorCode(err) != condo.ENOTFOUND {
			t.Errorf("refused tenant %s exists: %v", bad.in.ID, err)
		}
	}
	// Accepted: given region in the set, or this node's.
	t1, err := c.CreateTenant(ctx, catalog.NewTenant{ID: "eu-fra", Residency: "eu", Region: "fra"}, nil)
	if err != nil || t1.Region != "fra" || t1.Residency != "eu" {
		t.Fatalf("eu-fra: %+v, %v", t1, err)
	}
	t2, err := c.CreateTenant(ctx, catalog.NewTenant{ID: "eu-here", Residency: "eu"}, nil)
	if err != nil || t2.Region != "ams" || t2.Residency != "eu" {
		t.Fatalf("eu-here: %+v, %v", t2, err)
	}
	// Without a residency, any region; none given is this node's.
	if t3, err := c.CreateTenant(ctx, catalog.NewTenant{ID: "free"}, nil); err != nil || t3.Region != "ams" || t3.Residency != "" {
		t.Fatalf("free: %+v, %v", t3, err)
	}
	// The check later paths call.
	if err := c.CheckResidency(t1, "ams"); err != nil {
		t.Errorf("eu tenant to ams: %v", err)
	}
	if err := c.CheckResidency(t1, "iad"); condo.ErrorReason(err) != "residency_violation" {
		t.Errorf("eu tenant to iad: %v", err)
	}
	// A node without a region and no region given: a residency needs one.
	c2 := mustOpen(t, t.TempDir(), catalog.Config{ResidencySets: sets})
	if _, err := c2.CreateTenant(ctx, catalog.NewTenant{ID: "x", Residency: "eu"}, nil); condo.ErrorReason(err) != "region_required" {
		t.Errorf("no region: %v", err)
	}
}

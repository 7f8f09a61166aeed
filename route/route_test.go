package route_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/route"
)

func TestMarker_SignVerifyExpiry(t *testing.T) {
	secret := []byte(strings.Repeat("k", 32))
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := route.Sign(secret, "GET", "acme.localhost", "/api/tenant", "203.0.113.7", now)
	if ip, err := route.Verify(secret, m, "GET", "acme.localhost", "/api/tenant", now.Add(29*time.Second)); err != nil || ip != "203.0.113.7" {
		t.Fatalf("a fresh marker: %q %v", ip, err)
	}
	for name, c := range map[string]struct {
		secret                     []byte
		marker, method, host, path string
		at                         time.Time
	}{
		"expired":      {secret, m, "GET", "acme.localhost", "/api/tenant", now.Add(31 * time.Second)},
		"future":       {secret, m, "GET", "acme.localhost", "/api/tenant", now.Add(-31 * time.Second)},
		"other method": {secret, m, "POST", "acme.localhost", "/api/tenant", now},
		"other host":   {secret, m, "GET", "other.localhost", "/api/tenant", now},
		"other path":   {secret, m, "GET", "acme.localhost", "/api/users", now},
		"other secret": {[]byte(strings.Repeat("x", 32)), m, "GET", "acme.localhost", "/api/tenant", now},
		"malformed":    {secret, "nonsense", "GET", "acme.localhost", "/api/tenant", now},
		"bad time":     {secret, "t=abc;sig=xyz", "GET", "acme.localhost", "/api/tenant", now},
		"moved time":   {secret, strings.Replace(m, "t=1", "t=2", 1), "GET", "acme.localhost", "/api/tenant", now},
		"other client": {secret, strings.Replace(m, "203.0.113.7", "203.0.113.8", 1), "GET", "acme.localhost", "/api/tenant", now},
		"no client":    {secret, strings.Replace(m, ";ip=203.0.113.7", "", 1), "GET", "acme.localhost", "/api/tenant", now},
	} {
		_, err := route.Verify(c.secret, c.marker, c.method, c.host, c.path, c.at)
		if condo.ErrorReason(err) != "invalid_forward_marker" || strings.Contains(condo.ErrorMessage(err), c.marker) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The secret is generated once and shared through the catalog.
func TestSecret_SharedThroughCatalog(t *testing.T) {
	ctx := context.Background()
	cat, err := catalog.Open(ctx, t.TempDir(), catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	a, err := route.NewSecret(cat).Key(ctx)
	if err != nil || len(a) != 32 {
		t.Fatalf("%x %v", a, err)
	}
	b, _ := route.NewSecret(cat).Key(ctx)
	if string(a) != string(b) {
		t.Error("two secrets on one catalog")
	}
}

func TestNodes_Pick(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	cat, err := catalog.Open(ctx, t.TempDir(), catalog.Config{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	reg := func(id, region, url string) {
		t.Helper()
		if err := cat.RegisterNode(ctx, catalog.NodeInfo{ID: id, Region: region, AdvertiseURL: url, Heartbeat: time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	reg("self", "iad", "http://self:1")
	reg("iad-1", "iad", "http://iad-1:1")
	reg("iad-2", "iad", "http://iad-2:1")
	reg("iad-mute", "iad", "") // up but unreachable: never chosen
	reg("iad-down", "iad", "http://iad-down:1")
	cat.StopNode(ctx, "iad-down")
	reg("ams-1", "ams", "http://ams-1:1")

	nodes := route.NewNodes(cat, "self", time.Minute)
	// One tenant always goes to one node; tenants spread over both.
	chosen := map[string]int{}
	for i := range 40 {
		tenant := fmt.Sprintf("tenant-%d", i)
		n, err := nodes.Pick(ctx, "iad", tenant, "")
		if err != nil {
			t.Fatal(err)
		}
		if n.ID != "iad-1" && n.ID != "iad-2" {
			t.Fatalf("%s went to %s", tenant, n.ID)
		}
		if again, _ := nodes.Pick(ctx, "iad", tenant, ""); again.ID != n.ID {
			t.Errorf("%s: %s then %s", tenant, n.ID, again.ID)
		}
		chosen[n.ID]++
	}
	if chosen["iad-1"] < 5 || chosen["iad-2"] < 5 {
		t.Errorf("spread: %v", chosen)
	}
	// A preferred node (the one a libSQL baton names) wins when it is up
	// in the region; otherwise the tenant's own node.
	for _, tenant := range []string{"tenant-1", "tenant-2", "tenant-3"} {
		own, _ := nodes.Pick(ctx, "iad", tenant, "")
		other := map[string]string{"iad-1": "iad-2", "iad-2": "iad-1"}[own.ID]
		if n, _ := nodes.Pick(ctx, "iad", tenant, other); n.ID != other {
			t.Errorf("%s preferring %s: %s", tenant, other, n.ID)
		}
		if n, _ := nodes.Pick(ctx, "iad", tenant, "ams-9"); n.ID != own.ID {
			t.Errorf("%s preferring a node elsewhere: %s", tenant, n.ID)
		}
	}
	if up, _ := nodes.Up(ctx, "iad"); len(up) != 3 { // iad-1, iad-2, iad-mute
		t.Errorf("up: %+v", up)
	}
	if _, err := nodes.Pick(ctx, "fra", "acme", ""); condo.ErrorReason(err) != "region_unavailable" || condo.ErrorCode(err) != condo.EUNAVAILABLE {
		t.Errorf("empty region: %v", err)
	}

	// The list is cached: a node stopped now is still chosen until the
	// TTL passes (a fresh Nodes sees it at once).
	cat.StopNode(ctx, "iad-1")
	cat.StopNode(ctx, "iad-2")
	if _, err := nodes.Pick(ctx, "iad", "acme", ""); err != nil {
		t.Errorf("cached: %v", err)
	}
	if _, err := route.NewNodes(cat, "self", time.Minute).Pick(ctx, "iad", "acme", ""); condo.ErrorReason(err) != "region_unavailable" {
		t.Errorf("fresh list: %v", err)
	}
}

package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/condohq/condo/catalog"
)

func TestPlatform_Nodes(t *testing.T) {
	p := newTenantAPI(t)
	ctx := context.Background()
	if r := p.call(t, "GET", "/platform/nodes", ""); r.Status != http.StatusOK || string(r.Data) != "[]" {
		t.Fatalf("no nodes: %d %s", r.Status, r.Body)
	}
	for _, n := range []catalog.NodeInfo{
		{ID: "node-a", Region: "ams", AdvertiseURL: "http://node-a:8080", Version: "v1", Heartbeat: time.Minute},
		{ID: "node-b", Region: "iad", Version: "v1", Heartbeat: time.Minute},
	} {
		if err := p.Catalog.RegisterNode(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Catalog.StopNode(ctx, "node-b"); err != nil {
		t.Fatal(err)
	}
	r := p.call(t, "GET", "/platform/nodes", "")
	var nodes []map[string]any
	if err := json.Unmarshal(r.Data, &nodes); err != nil || r.Status != http.StatusOK || len(nodes) != 2 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	a, b := nodes[0], nodes[1]
	if a["id"] != "node-a" || a["region"] != "ams" || a["advertise_url"] != "http://node-a:8080" || a["version"] != "v1" ||
		a["health"] != "up" || a["heartbeat_interval"] != "1m0s" || a["started_at"] == nil || a["heartbeat_at"] == nil {
		t.Errorf("node-a: %v", a)
	}
	if b["id"] != "node-b" || b["health"] != "stopped" || b["stopped_at"] == nil {
		t.Errorf("node-b: %v", b)
	}
	// HEAD answers too; without a token, 401.
	if res := p.send(t, "GET", "/platform/nodes", ""); res.Status != http.StatusUnauthorized {
		t.Errorf("no token: %d %s", res.Status, res.Body)
	}
	req, _ := http.NewRequest("HEAD", p.srv.URL+"/platform/nodes", nil)
	req.Host = "localhost"
	req.Header.Set("Authorization", "Bearer "+p.token)
	if res, err := p.srv.Client().Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("HEAD: %v %v", res, err)
	} else {
		res.Body.Close()
	}
}

func TestPlatformTenant_Residency(t *testing.T) {
	sets, err := catalog.ParseResidencySets("eu=ams,fra;us=iad")
	if err != nil {
		t.Fatal(err)
	}
	p := newTenantAPIWith(t, catalog.Config{Region: "iad", ResidencySets: sets})
	for _, c := range []struct{ body, code string }{
		{`{"id": "r1", "residency": "eu"}`, "residency_violation"}, // this node is iad
		{`{"id": "r2", "residency": "eu", "region": "iad"}`, "residency_violation"},
		{`{"id": "r3", "residency": "apac", "region": "syd"}`, "unknown_residency"},
	} {
		before := p.snapshot(t)
		r := p.call(t, "POST", "/platform/tenants", c.body)
		if r.Status != http.StatusBadRequest || r.Error.Code != c.code {
			t.Errorf("%s: %d %s, want 400 %s", c.body, r.Status, r.Body, c.code)
		}
		if after := p.snapshot(t); after != before {
			t.Errorf("%s changed the catalog", c.body)
		}
	}
	// A node in iad does not write a tenant homed in fra (with several
	// nodes it forwards the create there: cmd/condo's route tests).
	r := p.call(t, "POST", "/platform/tenants", `{"id": "acme-eu", "residency": "eu", "region": "fra"}`)
	if r.Status != http.StatusConflict || r.Error.Code != "wrong_region" {
		t.Fatalf("create in another region: %d %s", r.Status, r.Body)
	}
	if _, err := p.Catalog.CreateTenant(context.Background(), catalog.NewTenant{ID: "acme-eu", Residency: "eu", Region: "fra"}, nil); err != nil {
		t.Fatal(err)
	}
	var got struct{ Region, Residency string }
	r = p.call(t, "GET", "/platform/tenants/acme-eu", "")
	if err := json.Unmarshal(r.Data, &got); err != nil || got.Region != "fra" || got.Residency != "eu" {
		t.Errorf("GET: %s", r.Body)
	}
	// The home region changes only by a move; sending back the same is fine.
	for _, body := range []string{`{"region": "ams"}`, `{"residency": "us"}`, `{"name": "X", "region": "iad"}`} {
		if r := p.call(t, "PATCH", "/platform/tenants/acme-eu", body); r.Status != http.StatusConflict || r.Error.Code != "region_immutable" {
			t.Errorf("PATCH %s: %d %s", body, r.Status, r.Body)
		}
	}
	if r := p.call(t, "PATCH", "/platform/tenants/acme-eu", `{"name": "Acme EU", "region": "fra", "residency": "eu"}`); r.Status != http.StatusOK {
		t.Errorf("PATCH with the same placement: %d %s", r.Status, r.Body)
	}
	r = p.call(t, "GET", "/platform/tenants/acme-eu", "")
	if err := json.Unmarshal(r.Data, &got); err != nil || got.Region != "fra" || got.Residency != "eu" {
		t.Errorf("after PATCH: %s", r.Body)
	}
}

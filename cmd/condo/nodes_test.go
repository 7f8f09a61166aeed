package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/catalog"
)

func TestCLI_NodesList(t *testing.T) {
	data := t.TempDir()
	mustCatalog(t, data)
	if code, out, errOut := run(t, "", "nodes", "list", "--data", data); code != 0 || !strings.Contains(out, "0 nodes") {
		t.Fatalf("no nodes: %d %q %q", code, out, errOut)
	}
	cat, err := catalog.Open(context.Background(), data, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, n := range []catalog.NodeInfo{
		{ID: "node-ams", Region: "ams", AdvertiseURL: "http://10.0.0.1:8080", Version: "v9", Heartbeat: time.Minute},
		{ID: "node-iad", Region: "iad", Version: "v9", Heartbeat: time.Minute},
	} {
		if err := cat.RegisterNode(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := cat.StopNode(ctx, "node-iad"); err != nil {
		t.Fatal(err)
	}
	cat.Close()

	code, out, errOut := run(t, "", "nodes", "list", "--data", data)
	if code != 0 {
		t.Fatalf("nodes list: %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "LAST HEARTBEAT") ||
		!strings.Contains(lines[1], "node-ams") || !strings.Contains(lines[1], "http://10.0.0.1:8080") || !strings.HasSuffix(lines[1], "up") ||
		!strings.Contains(lines[2], "node-iad") || !strings.HasSuffix(lines[2], "stopped") || lines[3] != "2 nodes" {
		t.Errorf("nodes list:\n%s", out)
	}
	code, out, _ = run(t, "", "--json", "nodes", "list", "--data", data)
	var doc struct{ Nodes []catalog.Node }
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || len(doc.Nodes) != 2 ||
		doc.Nodes[0].Health != "up" || doc.Nodes[0].Region != "ams" || doc.Nodes[1].Health != "stopped" {
		t.Errorf("nodes list --json: %d %v %s", code, err, out)
	}
}

func TestCLI_TenantsCreateResidency(t *testing.T) {
	data := t.TempDir()
	mustCatalog(t, data)
	t.Setenv("CONDO_RESIDENCY_SETS", "eu=ams,fra;us=iad")
	t.Setenv("CONDO_REGION", "iad")
	t.Setenv("FLY_REGION", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"eu-here", "--residency", "eu"}, `region iad is outside residency "eu" (ams, fra)`}, // this node's region
		{[]string{"eu-iad", "--residency", "eu", "--region", "iad"}, `region iad is outside residency "eu"`},
		{[]string{"apac", "--residency", "apac", "--region", "syd"}, `unknown residency "apac"`},
		{[]string{"bad-sets", "--residency", "eu", "--residency-sets", "eu=ams;EU=fra"}, "--residency-sets: residency set name"},
	} {
		code, out, errOut := run(t, "", append([]string{"tenants", "create", "--data", data}, c.args...)...)
		if code == 0 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q, want one line with %q", c.args, code, out, errOut, c.want)
		}
		if _, err := os.Stat(filepath.Join(data, "tenants", c.args[0])); !os.IsNotExist(err) {
			t.Errorf("%v left a tenant directory: %v", c.args, err)
		}
	}
	if code, out, _ := run(t, "", "tenants", "list", "--data", data); code != 0 || !strings.Contains(out, "0 of 0 tenants") {
		t.Errorf("refused creations left tenants:\n%s", out)
	}

	// This node is in iad: a tenant homed in fra is written by a node
	// there, never here.
	code, out, errOut := run(t, "", "tenants", "create", "acme-eu", "--residency", "eu", "--region", "fra", "--data", data)
	if code == 0 || !strings.Contains(errOut, "home region is fra, and this node is in iad") {
		t.Fatalf("create a fra tenant on an iad node: %d %q", code, errOut)
	}
	t.Setenv("CONDO_REGION", "fra")
	code, out, errOut = run(t, "", "--json", "tenants", "create", "acme-eu", "--residency", "eu", "--region", "fra", "--data", data)
	t.Setenv("CONDO_REGION", "iad")
	var got catalog.Tenant
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || got.Region != "fra" || got.Residency != "eu" {
		t.Fatalf("create acme-eu: %d %q %q", code, out, errOut)
	}
	if code, out, errOut = run(t, "", "tenants", "create", "acme-us", "--residency", "us", "--data", data); code != 0 {
		t.Fatalf("create acme-us in this node's region: %d %s", code, errOut)
	}
	code, out, _ = run(t, "", "tenants", "show", "acme-us", "--data", data)
	if code != 0 || !strings.Contains(out, "region:    iad\n") || !strings.Contains(out, "residency: us\n") {
		t.Errorf("tenants show:\n%s", out)
	}
}

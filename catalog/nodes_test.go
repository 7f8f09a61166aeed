package catalog_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// clock is a settable clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func nodeNamed(t *testing.T, c *catalog.Catalog, id string) catalog.Node {
	t.Helper()
	nodes, err := c.Nodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.ID == id {
			return n
		}
	}
	t.Fatalf("node %s is not listed in %+v", id, nodes)
	return catalog.Node{}
}

func TestNodes_RegisterHeartbeatHealth(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	c := mustOpen(t, t.TempDir(), catalog.Config{Now: clk.Now})
	info := catalog.NodeInfo{ID: "node-a", Region: "ams", AdvertiseURL: "http://node-a.internal:8080", Version: "v1.2.3", Heartbeat: 5 * time.Second}
	if err := c.RegisterNode(ctx, info); err != nil {
		t.Fatal(err)
	}
	started := clk.Now()
	n := nodeNamed(t, c, "node-a")
	if n.Region != "ams" || n.AdvertiseURL != info.AdvertiseURL || n.Version != "v1.2.3" || !n.StartedAt.Equal(started) ||
		!n.HeartbeatAt.Equal(started) || time.Duration(n.Heartbeat) != 5*time.Second || n.Health != catalog.NodeUp {
		t.Fatalf("registered node: %+v", n)
	}

	// Within three intervals a node is up; past them, stale.
	clk.Advance(15 * time.Second)
	if h := nodeNamed(t, c, "node-a").Health; h != catalog.NodeUp {
		t.Errorf("15s after the last beat: %s, want up", h)
	}
	clk.Advance(time.Millisecond)
	if h := nodeNamed(t, c, "node-a").Health; h != catalog.NodeStale {
		t.Errorf("15.001s after the last beat: %s, want stale", h)
	}
	// A beat brings it back.
	if err := c.Heartbeat(ctx, "node-a"); err != nil {
		t.Fatal(err)
	}
	n = nodeNamed(t, c, "node-a")
	if n.Health != catalog.NodeUp || !n.HeartbeatAt.Equal(clk.Now()) || !n.StartedAt.Equal(started) {
		t.Errorf("after a beat: %+v", n)
	}
	// A clean shutdown says stopped, however recent the last beat.
	if err := c.StopNode(ctx, "node-a"); err != nil {
		t.Fatal(err)
	}
	if n = nodeNamed(t, c, "node-a"); n.Health != catalog.NodeStopped || n.StoppedAt == nil || !n.StoppedAt.Equal(clk.Now()) {
		t.Errorf("after stop: %+v", n)
	}
	// A restart under the same id replaces the row: up again, started anew.
	clk.Advance(time.Minute)
	info.Version = "v1.2.4"
	if err := c.RegisterNode(ctx, info); err != nil {
		t.Fatal(err)
	}
	if n = nodeNamed(t, c, "node-a"); n.Health != catalog.NodeUp || n.StoppedAt != nil || n.Version != "v1.2.4" || !n.StartedAt.Equal(clk.Now()) {
		t.Errorf("after a restart: %+v", n)
	}
	// A second node; both listed, by region then id.
	if err := c.RegisterNode(ctx, catalog.NodeInfo{ID: "node-b", Region: "", Heartbeat: time.Second}); err != nil {
		t.Fatal(err)
	}
	nodes, err := c.Nodes(ctx)
	if err != nil || len(nodes) != 2 || nodes[0].ID != "node-b" || nodes[1].ID != "node-a" {
		t.Fatalf("Nodes: %+v, %v", nodes, err)
	}
	if err := c.RemoveNode(ctx, "node-b"); err != nil {
		t.Fatal(err)
	}
	if err := c.Heartbeat(ctx, "node-b"); condo.ErrorReason(err) != "node_not_found" {
		t.Errorf("heartbeat of a removed node: %v, want node_not_found", err)
	}
	if err := c.RemoveNode(ctx, "node-b"); condo.ErrorCode(err) != condo.ENOTFOUND {
		t.Errorf("removing it again: %v, want ENOTFOUND", err)
	}
}

func TestNodes_RegisterRefusesBadInfo(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{})
	for name, info := range map[string]catalog.NodeInfo{
		"empty id":        {Heartbeat: time.Second},
		"id not a label":  {ID: "Node_A", Heartbeat: time.Second},
		"bad region":      {ID: "a", Region: "Amsterdam!", Heartbeat: time.Second},
		"not http":        {ID: "a", AdvertiseURL: "ftp://x", Heartbeat: time.Second},
		"with a password": {ID: "a", AdvertiseURL: "http://u:p@x:8080", Heartbeat: time.Second},
		"no interval":     {ID: "a"},
	} {
		if err := c.RegisterNode(ctx, info); condo.ErrorCode(err) != condo.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	if nodes, err := c.Nodes(ctx); err != nil || len(nodes) != 0 {
		t.Errorf("refused registrations left %+v, %v", nodes, err)
	}
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/condohq/condo/catalog"
)

// listNodes runs `condo nodes list --json` on data.
func listNodes(t *testing.T, data string) []catalog.Node {
	t.Helper()
	code, out, errOut := run(t, "", "--json", "nodes", "list", "--data", data)
	var doc struct{ Nodes []catalog.Node }
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil {
		t.Fatalf("nodes list: %d %v %s", code, err, errOut)
	}
	return doc.Nodes
}

// A real `condo serve` registers itself, beats, and records that it
// stopped on SIGTERM; a restart keeps its generated id.
func TestServe_NodeRegistration(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "CONDO_REGION=ams", "FLY_MACHINE_ID=", "CONDO_NODE_ID=", "CONDO_HEARTBEAT_INTERVAL=100ms",
		"CONDO_ADVERTISE_URL=http://node-a.test:8080")
	nodes := listNodes(t, data)
	if len(nodes) != 1 {
		t.Fatalf("nodes: %+v", nodes)
	}
	n := nodes[0]
	kept, err := os.ReadFile(filepath.Join(data, "node-id"))
	if err != nil || strings.TrimSpace(string(kept)) != n.ID {
		t.Errorf("node id %q, kept %q (%v)", n.ID, kept, err)
	}
	if n.Region != "ams" || n.AdvertiseURL != "http://node-a.test:8080" || n.Version == "" || n.Health != catalog.NodeUp {
		t.Errorf("registered: %+v", n)
	}
	// It beats: the last heartbeat moves on.
	eventually(t, func() bool { return listNodes(t, data)[0].HeartbeatAt.After(n.HeartbeatAt) })
	if code, out, _ := run(t, "", "nodes", "list", "--data", data); code != 0 || !strings.Contains(out, n.ID) || !strings.Contains(out, " up") {
		t.Errorf("nodes list while serving:\n%s", out)
	}

	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, s.logs.String())
	}
	if got := listNodes(t, data); len(got) != 1 || got[0].Health != catalog.NodeStopped || got[0].StoppedAt == nil {
		t.Fatalf("after SIGTERM: %+v", got)
	}
	if code, out, _ := run(t, "", "nodes", "list", "--data", data); code != 0 || !strings.Contains(out, "stopped") {
		t.Errorf("nodes list after SIGTERM:\n%s", out)
	}

	// A restart keeps the id and is up again.
	startServer(t, data, "CONDO_REGION=ams", "FLY_MACHINE_ID=", "CONDO_NODE_ID=", "CONDO_HEARTBEAT_INTERVAL=100ms")
	if got := listNodes(t, data); len(got) != 1 || got[0].ID != n.ID || got[0].Health != catalog.NodeUp || got[0].AdvertiseURL != "" {
		t.Errorf("after a restart: %+v", got)
	}
}

// Bad node settings refuse to start with one line naming the problem.
func TestServe_BadNodeSettings(t *testing.T) {
	for _, c := range []struct{ env, want string }{
		{"CONDO_RESIDENCY_SETS=eu=ams;us", `--residency-sets: residency set "us" has no regions`},
		{"CONDO_NODE_ID=Not_A_Label", "invalid node id"},
		{"CONDO_ADVERTISE_URL=ftp://x", "invalid advertise URL"},
		{"CONDO_HEARTBEAT_INTERVAL=0s", "--heartbeat-interval must be positive"},
	} {
		t.Run(c.env, func(t *testing.T) {
			t.Setenv(strings.SplitN(c.env, "=", 2)[0], strings.SplitN(c.env, "=", 2)[1])
			code, _, errOut := run(t, "", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir())
			if code == 0 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("exit %d, stderr %q, want one line with %q", code, errOut, c.want)
			}
		})
	}
}

// A node killed without a clean stop goes stale once three heartbeats
// are missed.
func TestServe_NodeStaleAfterKill(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "CONDO_NODE_ID=node-k", "CONDO_HEARTBEAT_INTERVAL=100ms")
	if got := listNodes(t, data); len(got) != 1 || got[0].ID != "node-k" || got[0].Health != catalog.NodeUp {
		t.Fatalf("serving: %+v", got)
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	eventually(t, func() bool { return listNodes(t, data)[0].Health == catalog.NodeStale })
	if got := listNodes(t, data)[0]; got.StoppedAt != nil {
		t.Errorf("a killed node says it stopped: %+v", got)
	}
}

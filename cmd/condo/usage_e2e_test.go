package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/condohq/condo/catalog"
)

// hits sends n anonymous reads to the default tenant.
func (s *server) hits(t *testing.T, n int) {
	t.Helper()
	for range n {
		if code, body := s.get(t, "default.localhost", "/api/tenant"); code != http.StatusOK {
			t.Fatalf("GET /api/tenant: %d %v", code, body)
		}
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly: %v\n%s", err, s.logs.String())
	}
}

// usageToday reads the default tenant's requests of today from the
// catalog, as `condo stats default --json` prints them.
func usageToday(t *testing.T, data string) int64 {
	t.Helper()
	code, out, errOut := run(t, "", "stats", "default", "--days", "1", "--json", "--data", data)
	if code != 0 {
		t.Fatalf("condo stats: %d %s", code, errOut)
	}
	var st struct {
		Days []catalog.UsageDay `json:"days"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("condo stats --json: %v\n%s", err, out)
	}
	if len(st.Days) == 0 {
		return 0
	}
	return st.Days[0].Requests
}

// Usage counted in memory survives restarts: a SIGTERM flushes it all
// (the default interval, a minute, never comes), and a kill -9 loses at
// most what came after the last flush.
func TestServe_UsageAcrossRestarts(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	s.hits(t, 7)
	s.stop(t)
	if got := usageToday(t, data); got != 7 {
		t.Fatalf("after the first run: %d requests, want 7", got)
	}

	// Second run, with a separate metrics listener.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	maddr := ln.Addr().String()
	ln.Close()
	s = startServerArgs(t, data, []string{"--metrics-addr", maddr})
	s.hits(t, 5)
	res, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), `condo_http_requests_total{class="2xx",method="GET",route="/api/tenant"} 5`) {
		t.Errorf("--metrics-addr: %d\n%s", res.StatusCode, b)
	}
	if code, _ := s.get(t, "default.localhost", "/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the default tenant's host: %d, want 404", code)
	}
	s.stop(t)
	if got := usageToday(t, data); got != 12 {
		t.Fatalf("after the second run: %d requests, want 12", got)
	}
	if code, out, _ := run(t, "", "stats", "default", "--data", data); code != 0 || !strings.Contains(out, " 12\n") {
		t.Errorf("condo stats default: %d\n%s", code, out)
	}
	if code, out, _ := run(t, "", "stats", "--data", data); code != 0 || !strings.Contains(out, "all tenants") {
		t.Errorf("condo stats: %d\n%s", code, out)
	}

	// kill -9 after a flush: what was flushed stays.
	s = startServerArgs(t, data, []string{"--usage-flush-interval", "100ms"})
	s.hits(t, 3)
	eventually(t, func() bool { return usageToday(t, data) == 15 })
	s.cmd.Process.Kill()
	s.cmd.Wait()
	if got := usageToday(t, data); got != 15 {
		t.Errorf("after kill -9: %d, want 15", got)
	}
}

package main

import (
	"strings"
	"syscall"
	"testing"
)

// The libSQL endpoint of a real `condo serve`: an operator's token runs
// SQL, a transaction left open across requests is rolled back when the
// server stops (its stream closed before the pool), and the stop is clean.
func TestServe_LibSQLStreamAtShutdown(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	tok := mustCreateToken(t, data, "default", "--sql", "write").Token
	pipeline := func(baton any, sqls ...string) map[string]any {
		t.Helper()
		var reqs []map[string]any
		for _, q := range sqls {
			reqs = append(reqs, map[string]any{"type": "execute", "stmt": map[string]any{"sql": q}})
		}
		code, body, _ := s.sendJSON(t, "POST", "default.localhost", "/v2/pipeline", tok, map[string]any{"baton": baton, "requests": reqs})
		if code != 200 {
			t.Fatalf("pipeline %v: %d %v", sqls, code, body)
		}
		return body
	}
	pipeline(nil, "CREATE TABLE t(a INTEGER)", "INSERT INTO t VALUES (1)")
	open := pipeline(nil, "BEGIN", "INSERT INTO t VALUES (2)")
	if open["baton"] == nil {
		t.Fatal("no baton for an open transaction")
	}

	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly: %v\n%s", err, s.logs.String())
	}
	if !strings.Contains(s.logs.String(), "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", s.logs.String())
	}
	code, out, errOut := run(t, "", "shell", "default", "SELECT 'rows=' || group_concat(a) FROM t", "--json", "--data", data)
	if code != 0 || !strings.Contains(out, `"rows=1"`) {
		t.Errorf("after the stop, t holds %q (%s): want the committed row only", out, errOut)
	}
}

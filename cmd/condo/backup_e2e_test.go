package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The backup commands against a file:// replica written by a real
// `condo serve`: restore points listed, verify matches, and a
// restore-backup killed (SIGKILL) at each of its steps leaves the tenant
// whole in one place (the old state before the swap, the restored one
// after); the rerun finishes, keeping the state before. Bad input is one
// line and a non-zero exit.
func TestTenants_BackupCLIAndRestoreCrashes(t *testing.T) {
	data := t.TempDir()
	url := "file://" + t.TempDir()
	env := []string{"CONDO_BACKUP_URL=" + url}
	pw := "a long chosen password"
	if code, _, errOut := runCondo(t, nil, "", "init", "--data", data); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	runCondo(t, nil, "", "tenants", "create", "shop", "--data", data)
	if code, _, errOut := runCondo(t, []string{"CONDO_PASSWORD=" + pw}, "", "users", "create", "shop", "ed@example.com", "--role", "admin", "--data", data); code != 0 {
		t.Fatalf("users create: %s", errOut)
	}
	// Writes through the server (a login's session, an API token) are
	// replicated; the server's stop gives the tenant its final sync.
	srv := startServer(t, data, env...)
	code, login, _ := srv.sendJSON(t, "POST", "shop.localhost", "/auth/login", "", map[string]string{"email": "ed@example.com", "password": pw})
	if code != 200 {
		t.Fatalf("login: %d %v", code, login)
	}
	tok, _ := login["token"].(string)
	if code, body, _ := srv.sendJSON(t, "POST", "shop.localhost", "/api/tokens", tok, map[string]string{"name": "backup test"}); code != 201 && code != 200 {
		t.Fatalf("token: %d %v", code, body)
	}
	srv.cmd.Process.Signal(os.Interrupt)
	srv.cmd.Wait()

	code, out, errOut := runCondo(t, env, "", "tenants", "backups", "shop", "--json", "--data", data)
	var pts struct {
		Remote struct {
			MaxTXID uint64 `json:"max_txid"`
		} `json:"remote"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &pts) != nil || pts.Remote.MaxTXID == 0 {
		t.Fatalf("backups: %d %s %s\nserver: %s", code, out, errOut, srv.logs.String())
	}
	if code, out, errOut := runCondo(t, env, "", "tenants", "verify-backup", "shop", "--data", data); code != 0 || !strings.Contains(out, "matches the live database") {
		t.Fatalf("verify-backup: %d %s %s", code, out, errOut)
	}
	if code, out, _ := runCondo(t, env, "", "tenants", "show", "shop", "--data", data); code != 0 || !strings.Contains(out, "backup:    last sync") {
		t.Fatalf("show: %d %s", code, out)
	}

	users := func() string {
		_, out, _ := runCondo(t, nil, "", "users", "list", "shop", "--data", data)
		return out
	}
	live := filepath.Join(data, "tenants", "shop", "tenant.db")
	for _, step := range []string{"restore-backup:staged", "restore-backup:swapped"} {
		code, _, errOut := runCondo(t, append([]string{"CONDO_TEST_BACKUP_CRASH_AT=" + step}, env...), "", "tenants", "restore-backup", "shop", "--data", data)
		if code != -1 {
			t.Fatalf("restore-backup killed at %s: exit %d %s", step, code, errOut)
		}
		if _, err := os.Stat(live); err != nil {
			t.Fatalf("after a kill at %s the tenant has no database: %v", step, err)
		}
		if u := users(); !strings.Contains(u, "ed@example.com") {
			t.Fatalf("after a kill at %s: users %q", step, u)
		}
	}
	code, out, errOut = runCondo(t, env, "", "tenants", "restore-backup", "shop", "--data", data)
	if code != 0 || !strings.Contains(out, "kept at") || !strings.Contains(users(), "ed@example.com") {
		t.Fatalf("restore-backup: %d %s %s", code, out, errOut)
	}
	for _, c := range []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"tenants", "backups", "shop", "--data", data}, nil, "--backup-url"},
		{[]string{"tenants", "restore-backup", "shop", "--timestamp", "yesterday", "--data", data}, env, "RFC 3339"},
		{[]string{"tenants", "restore-backup", "shop", "--timestamp", "2001-01-01T00:00:00Z", "--data", data}, env, "begin at"},
		{[]string{"tenants", "restore-backup", "nobody", "--data", data}, env, "not found"},
		{[]string{"tenants", "backups", "shop", "--backup-url", "ftp://x", "--data", data}, nil, "s3://bucket/prefix or file:///path"},
	} {
		code, out, errOut := runCondo(t, c.env, "", c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || out != "" {
			t.Errorf("condo %v: %d %q %q, want one line with %q", c.args, code, out, errOut, c.want)
		}
	}
}

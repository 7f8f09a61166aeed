package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/backup"
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

// A local scheduled snapshot taken by a real `condo serve` restores with
// restore-backup --snapshot (no object store): killed (SIGKILL) before
// the swap the tenant keeps its state, after it the snapshot's is live;
// the rerun finishes, keeping the state before; each attempt is a job,
// the killed ones interrupted. The API restores one too. Bad names are
// one line and a non-zero exit.
func TestTenants_RestoreSnapshotCrashes(t *testing.T) {
	data := t.TempDir()
	pw := "a long chosen password"
	if code, _, errOut := runCondo(t, nil, "", "init", "--data", data); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	runCondo(t, nil, "", "tenants", "create", "shop", "--data", data)
	if code, _, errOut := runCondo(t, []string{"CONDO_PASSWORD=" + pw}, "", "users", "create", "shop", "ed@example.com", "--data", data); code != 0 {
		t.Fatalf("users create: %s", errOut)
	}
	if code, _, errOut := runCondo(t, []string{"CONDO_ADMIN_PASSWORD=" + pw}, "", "admins", "create", "ops@example.com", "--data", data); code != 0 {
		t.Fatalf("admins create: %s", errOut)
	}
	snapshots := func() []backup.LocalSnapshot {
		_, out, _ := runCondo(t, nil, "", "tenants", "backups", "shop", "--json", "--data", data)
		var v struct{ Local []backup.LocalSnapshot }
		json.Unmarshal([]byte(out), &v)
		return v.Local
	}
	srv := startServer(t, data, "CONDO_SNAPSHOT_EVERY=100ms")
	for deadline := time.Now().Add(30 * time.Second); len(snapshots()) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot taken: %s", srv.logs.String())
		}
	}
	srv.cmd.Process.Signal(os.Interrupt)
	srv.cmd.Wait()
	snap := snapshots()[0]

	// Written after the snapshot: gone once it is restored.
	runCondo(t, []string{"CONDO_PASSWORD=" + pw}, "", "users", "create", "shop", "late@example.com", "--data", data)
	users := func() string {
		_, out, _ := runCondo(t, nil, "", "users", "list", "shop", "--data", data)
		return out
	}
	code, _, _ := runCondo(t, []string{"CONDO_TEST_BACKUP_CRASH_AT=restore-backup:staged"}, "", "tenants", "restore-backup", "shop", "--snapshot", snap.Name, "--data", data)
	if u := users(); code != -1 || !strings.Contains(u, "late@example.com") {
		t.Fatalf("killed before the swap: exit %d, users %q", code, u)
	}
	code, _, _ = runCondo(t, []string{"CONDO_TEST_BACKUP_CRASH_AT=restore-backup:swapped"}, "", "tenants", "restore-backup", "shop", "--snapshot", "latest", "--data", data)
	if u := users(); code != -1 || strings.Contains(u, "late@example.com") || !strings.Contains(u, "ed@example.com") {
		t.Fatalf("killed after the swap: exit %d, users %q", code, u)
	}
	code, out, errOut := runCondo(t, nil, "", "tenants", "restore-backup", "shop", "--snapshot", snap.At.Format(time.RFC3339Nano), "--data", data)
	if code != 0 || !strings.Contains(out, "kept at") || !strings.Contains(out, snap.Name) || strings.Contains(users(), "late@example.com") {
		t.Fatalf("restore-backup --snapshot: %d %s %s", code, out, errOut)
	}
	if jobs := cliJobs(t, data, "--kind", "restore_snapshot"); len(jobs) != 3 || jobs[0].State != "succeeded" ||
		jobs[1].State != "interrupted" || jobs[2].State != "interrupted" || jobs[0].TenantID != "shop" {
		t.Fatalf("restore_snapshot jobs: %+v", jobs)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tenants", "restore-backup", "shop", "--snapshot", "nosuch", "--data", data}, "no local snapshot"},
		{[]string{"tenants", "restore-backup", "shop", "--snapshot", "../../catalog.db", "--data", data}, "no local snapshot"},
		{[]string{"tenants", "restore-backup", "shop", "--snapshot", "latest", "--timestamp", "2001-01-01T00:00:00Z", "--data", data}, "do not go together"},
		{[]string{"tenants", "restore-backup", "nobody", "--snapshot", "latest", "--data", data}, "not found"},
	} {
		code, out, errOut := runCondo(t, nil, "", c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || out != "" {
			t.Errorf("condo %v: %d %q %q, want one line with %q", c.args, code, out, errOut, c.want)
		}
	}

	// Through the API, on a server without --backup-url.
	runCondo(t, []string{"CONDO_PASSWORD=" + pw}, "", "users", "create", "shop", "later@example.com", "--data", data)
	srv = startServer(t, data)
	_, login, _ := srv.sendJSON(t, "POST", "localhost", "/platform/auth/login", "", map[string]string{"email": "ops@example.com", "password": pw})
	tok, _ := login["token"].(string)
	if c, body, _ := srv.sendJSON(t, "GET", "localhost", "/platform/tenants/shop/backups", tok, nil); c != 200 || !strings.Contains(fmt.Sprint(body), snap.Name) {
		t.Fatalf("GET backups: %d %v", c, body)
	}
	for _, bad := range []map[string]string{{"snapshot": "nosuch"}, {"snapshot": "latest", "timestamp": "2001-01-01T00:00:00Z"}} {
		if c, body, _ := srv.sendJSON(t, "POST", "localhost", "/platform/tenants/shop/restore-backup", tok, bad); c != 404 && c != 400 {
			t.Fatalf("restore-backup %v: %d %v", bad, c, body)
		}
	}
	if c, body, _ := srv.sendJSON(t, "POST", "localhost", "/platform/tenants/shop/restore-backup", tok, map[string]string{"snapshot": snap.Name}); c != 200 {
		t.Fatalf("API restore of a snapshot: %d %v", c, body)
	}
	if c, body, _ := srv.sendJSON(t, "POST", "localhost", "/platform/tenants/shop/restore-backup", tok, map[string]string{}); c != 503 {
		t.Fatalf("restore-backup from a replica without --backup-url: %d %v", c, body)
	}
	srv.cmd.Process.Signal(os.Interrupt)
	srv.cmd.Wait()
	if u := users(); strings.Contains(u, "later@example.com") || !strings.Contains(u, "ed@example.com") {
		t.Fatalf("after the API restore: users %q", u)
	}
}

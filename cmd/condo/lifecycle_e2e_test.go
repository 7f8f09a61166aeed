package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A tenant exported with the CLI while `condo serve` runs on its data
// directory imports into another data directory with its users; failures
// are one line, a non-zero exit, and no file or tenant left behind.
func TestTenants_ExportImportCLI(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	startServer(t, src)
	if code, _, errOut := runCondo(t, nil, "", "tenants", "create", "shop", "--data", src); code != 0 {
		t.Fatalf("create: %s", errOut)
	}
	if code, _, errOut := runCondo(t, []string{"CONDO_PASSWORD=a long chosen password"}, "", "users", "create", "shop", "ed@example.com", "--data", src); code != 0 {
		t.Fatalf("users create: %s", errOut)
	}
	archive := filepath.Join(t.TempDir(), "shop.tar.zst")
	code, out, errOut := runCondo(t, nil, "", "tenants", "export", "shop", "-o", archive, "--data", src)
	if code != 0 || !strings.Contains(out, "exported tenant shop to "+archive) {
		t.Fatalf("export: %d %s %s", code, out, errOut)
	}

	if code, _, errOut := runCondo(t, nil, "", "init", "--data", dst); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	code, out, errOut = runCondo(t, nil, "", "tenants", "import", archive, "--id", "shop2", "--data", dst)
	if code != 0 || !strings.Contains(out, "imported tenant shop2") {
		t.Fatalf("import: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := runCondo(t, nil, "", "users", "list", "shop2", "--data", dst); code != 0 || !strings.Contains(out, "ed@example.com") {
		t.Fatalf("the imported tenant's users: %d %s %s", code, out, errOut)
	}
	// From standard input too, under the exported id.
	f, _ := os.ReadFile(archive)
	if code, _, errOut := runCondo(t, nil, string(f), "tenants", "import", "-", "--data", dst); code != 0 {
		t.Fatalf("import from stdin: %s", errOut)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tenants", "import", archive, "--data", dst}, "already exists"},
		{[]string{"tenants", "import", filepath.Join(dst, "catalog.db"), "--id", "x", "--data", dst}, "not a Condo tenant export"},
		{[]string{"tenants", "import", "/no/such/file", "--data", dst}, "no such file"},
		{[]string{"tenants", "export", "nobody", "-o", filepath.Join(dst, "nobody.tar.zst"), "--data", dst}, "not found"},
		{[]string{"tenants", "export", "shop2", "--data", dst}, "-o FILE is required"},
	} {
		code, out, errOut := runCondo(t, nil, "", c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || out != "" {
			t.Errorf("condo %v: %d %q %q, want one line with %q", c.args, code, out, errOut, c.want)
		}
	}
	// The audit trail of each data directory names the operator.
	if code, out, _ := runCondo(t, nil, "", "audit", "--tenant", "shop", "--data", src); code != 0 || !strings.Contains(out, "tenant.export") || !strings.Contains(out, "cli:") {
		t.Errorf("condo audit on the source: %d %s", code, out)
	}
	if code, out, _ := runCondo(t, nil, "", "audit", "--action", "tenant.import", "--json", "--data", dst); code != 0 || strings.Count(out, `"action": "tenant.import"`) != 2 {
		t.Errorf("condo audit --action tenant.import: %d %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dst, "nobody.tar.zst")); err == nil {
		t.Error("a failed export left an archive")
	}
	if left, _ := filepath.Glob(filepath.Join(dst, ".nobody.tar.zst.*")); len(left) != 0 {
		t.Errorf("a failed export left %v", left)
	}
}

// A delete killed (SIGKILL) after each of its steps leaves the tenant
// suspended with a tombstone; running it again, or the next serve,
// finishes it: nothing of the tenant is left. Without --yes nothing
// happens.
func TestTenants_DeleteCrashes(t *testing.T) {
	data := t.TempDir()
	if code, _, errOut := runCondo(t, nil, "", "init", "--data", data); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	for _, id := range []string{"t1", "t2", "t3"} {
		if code, _, errOut := runCondo(t, nil, "", "tenants", "create", id, "--data", data); code != 0 {
			t.Fatalf("create %s: %s", id, errOut)
		}
	}
	if code, _, errOut := runCondo(t, nil, "", "tenants", "delete", "t1", "--data", data); code != 2 || !strings.Contains(errOut, "--yes") {
		t.Fatalf("delete without --yes: %d %s", code, errOut)
	}
	gone := func(id string) bool {
		_, err := os.Stat(filepath.Join(data, "tenants", id))
		return os.IsNotExist(err)
	}
	if gone("t1") {
		t.Fatal("delete without --yes removed files")
	}
	for id, step := range map[string]string{"t1": "delete:begun", "t2": "delete:files"} {
		code, _, _ := runCondo(t, []string{"CONDO_TEST_LIFECYCLE_CRASH_AT=" + step}, "", "tenants", "delete", id, "--yes", "--data", data)
		if code != -1 {
			t.Fatalf("delete %s killed at %s: exit %d", id, step, code)
		}
		_, _, errOut := runCondo(t, nil, "", "tenants", "create", id, "--data", data)
		if !strings.Contains(errOut, "being deleted") {
			t.Errorf("%s after a crash at %s: create says %q", id, step, errOut)
		}
	}
	// t1 by running the delete again; t2 by the next serve.
	if code, out, errOut := runCondo(t, nil, "", "tenants", "delete", "t1", "--yes", "--reason", "ticket 7", "--data", data); code != 0 || !strings.Contains(out, "deleted tenant t1") {
		t.Fatalf("delete again: %d %s %s", code, out, errOut)
	}
	srv := startServer(t, data)
	eventually(t, func() bool {
		return gone("t2") && strings.Contains(srv.logs.String(), "finished interrupted tenant deletes")
	})
	for _, id := range []string{"t1", "t2"} {
		if !gone(id) {
			t.Errorf("%s's files remain", id)
		}
		if code, _ := srv.get(t, id+".localhost", "/api/tenant"); code != 410 {
			t.Errorf("%s's host: %d, want 410", id, code)
		}
	}
	if code, _ := srv.get(t, "t3.localhost", "/api/tenant"); code != 200 {
		t.Errorf("t3: %d", code)
	}
	if code, _, errOut := runCondo(t, nil, "", "tenants", "purge", "t1", "--data", data); code != 0 {
		t.Fatalf("purge: %s", errOut)
	}
	if code, _, errOut := runCondo(t, nil, "", "tenants", "create", "t1", "--data", data); code != 0 {
		t.Fatalf("create after purge: %s", errOut)
	}
}

// Archive and restore killed (SIGKILL) at each step leave the tenant whole
// in one place; the rerun finishes. With a server up, the CLI refuses and
// the platform API does it.
func TestTenants_ArchiveRestoreCrashes(t *testing.T) {
	data := t.TempDir()
	if code, _, errOut := runCondo(t, nil, "", "init", "--data", data); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	if code, _, errOut := runCondo(t, []string{"CONDO_PASSWORD=a long chosen password"}, "", "tenants", "create", "nap", "--data", data); code != 0 {
		t.Fatalf("create: %s", errOut)
	}
	runCondo(t, []string{"CONDO_PASSWORD=a long chosen password"}, "", "users", "create", "nap", "ed@example.com", "--data", data)
	users := func() string {
		_, out, _ := runCondo(t, nil, "", "users", "list", "nap", "--data", data)
		return out
	}
	status := func() string {
		_, out, _ := runCondo(t, nil, "", "tenants", "show", "nap", "--json", "--data", data)
		var tn struct{ Status string }
		json.Unmarshal([]byte(out), &tn)
		return tn.Status
	}
	for _, step := range []string{"archive:written", "archive:marked"} {
		code, _, _ := runCondo(t, []string{"CONDO_TEST_LIFECYCLE_CRASH_AT=" + step}, "", "tenants", "archive", "nap", "--data", data)
		if code != -1 {
			t.Fatalf("archive killed at %s: exit %d", step, code)
		}
		if step == "archive:written" && (status() != "active" || !strings.Contains(users(), "ed@example.com")) {
			t.Fatalf("after a crash at %s: %s, users %q", step, status(), users())
		}
	}
	// Both killed archives are jobs left running by a dead process: the
	// listing marks them interrupted.
	if jobs := cliJobs(t, data, "--tenant", "nap", "--kind", "archive"); len(jobs) != 2 ||
		jobs[0].State != "interrupted" || jobs[1].State != "interrupted" || !strings.Contains(jobs[0].Error, "stopped before it ended") {
		t.Fatalf("jobs after two killed archives: %+v", jobs)
	}
	if code, out, errOut := runCondo(t, nil, "", "tenants", "archive", "nap", "--data", data); code != 0 || !strings.Contains(out, "archived tenant nap") {
		t.Fatalf("archive after the crashes: %d %s %s", code, out, errOut)
	}
	if jobs := cliJobs(t, data, "--tenant", "nap"); len(jobs) != 3 || jobs[0].Kind != "archive" || jobs[0].State != "succeeded" || jobs[0].FinishedAt == nil {
		t.Fatalf("jobs after the archive: %+v", jobs)
	}
	if _, err := os.Stat(filepath.Join(data, "tenants", "nap")); !os.IsNotExist(err) || status() != "archived" {
		t.Fatalf("archived: %v %s", err, status())
	}
	if code, _, _ := runCondo(t, []string{"CONDO_TEST_LIFECYCLE_CRASH_AT=restore:installed"}, "", "tenants", "restore", "nap", "--data", data); code != -1 {
		t.Fatalf("restore killed: exit %d", code)
	}
	if status() != "archived" {
		t.Fatalf("after a killed restore: %s", status())
	}
	if code, out, errOut := runCondo(t, nil, "", "tenants", "restore", "nap", "--data", data); code != 0 || !strings.Contains(out, "restored tenant nap") {
		t.Fatalf("restore: %d %s %s", code, out, errOut)
	}
	// The next restore marked the killed one interrupted as it began.
	if jobs := cliJobs(t, data, "--kind", "restore"); len(jobs) != 2 || jobs[0].State != "succeeded" || jobs[1].State != "interrupted" {
		t.Fatalf("restore jobs: %+v", jobs)
	}
	if status() != "active" || !strings.Contains(users(), "ed@example.com") {
		t.Fatalf("restored: %s, users %q", status(), users())
	}

	// With a server up: the CLI refuses, the API archives and restores.
	if code, _, errOut := runCondo(t, []string{"CONDO_ADMIN_PASSWORD=a long chosen password"}, "", "admins", "create", "ops@example.com", "--data", data); code != 0 {
		t.Fatalf("admins create: %s", errOut)
	}
	srv := startServer(t, data)
	code, _, errOut := runCondo(t, nil, "", "tenants", "archive", "nap", "--data", data)
	if code == 0 || !strings.Contains(errOut, "POST /platform/tenants/nap/archive") {
		t.Fatalf("archive beside a server: %d %s", code, errOut)
	}
	_, login, _ := srv.sendJSON(t, "POST", "localhost", "/platform/auth/login", "", map[string]string{"email": "ops@example.com", "password": "a long chosen password"})
	tok, _ := login["token"].(string)
	if c, body, _ := srv.sendJSON(t, "POST", "localhost", "/platform/tenants/nap/archive", tok, nil); c != 200 {
		t.Fatalf("API archive: %d %v", c, body)
	}
	if c, _ := srv.get(t, "nap.localhost", "/api/tenant"); c != 410 {
		t.Fatalf("archived host: %d", c)
	}
	if c, body, _ := srv.sendJSON(t, "POST", "localhost", "/platform/tenants/nap/restore", tok, nil); c != 200 {
		t.Fatalf("API restore: %d %v", c, body)
	}
	if c, _ := srv.get(t, "nap.localhost", "/api/tenant"); c != 200 {
		t.Fatalf("restored host: %d", c)
	}
	// The API's operations are jobs too, with their actor, listed beside
	// the CLI's by the API and by the CLI.
	c, body, _ := srv.sendJSON(t, "GET", "localhost", "/platform/jobs?tenant=nap&limit=2", tok, nil)
	data2, _ := json.Marshal(body["data"])
	var listed []cliJob
	json.Unmarshal(data2, &listed)
	if c != 200 || len(listed) != 2 || listed[0].Kind != "restore" || listed[1].Kind != "archive" || listed[0].State != "succeeded" ||
		!strings.Contains(listed[0].Detail.Actor, "ops@example.com") {
		t.Fatalf("GET /platform/jobs: %d %s", c, data2)
	}
	if c, body, _ := srv.sendJSON(t, "GET", "localhost", "/platform/jobs?kind=nonsense", tok, nil); c != 400 {
		t.Fatalf("GET /platform/jobs?kind=nonsense: %d %v", c, body)
	}
	if jobs := cliJobs(t, data, "--tenant", "nap"); len(jobs) != 7 || jobs[0].ID != listed[0].ID {
		t.Fatalf("jobs list beside the server: %+v", jobs)
	}
}

// cliJob is a job as `condo jobs list --json` shows it.
type cliJob struct {
	ID, Kind, State, Error string
	TenantID               string     `json:"tenant_id"`
	FinishedAt             *time.Time `json:"finished_at"`
	Detail                 struct{ Actor string }
}

// cliJobs runs `condo jobs list --json` with args.
func cliJobs(t *testing.T, data string, args ...string) []cliJob {
	t.Helper()
	code, out, errOut := runCondo(t, nil, "", append([]string{"jobs", "list", "--json", "--data", data}, args...)...)
	if code != 0 {
		t.Fatalf("jobs list: %d %s", code, errOut)
	}
	var v struct{ Jobs []cliJob }
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("jobs list: %v %s", err, out)
	}
	return v.Jobs
}

// An import over a tenant (--replace) killed before or after the swap
// leaves the tenant whole: the old state before, the archive's after.
func TestTenants_ImportReplaceCrashes(t *testing.T) {
	data := t.TempDir()
	if code, _, errOut := runCondo(t, nil, "", "init", "--data", data); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	pw := []string{"CONDO_PASSWORD=a long chosen password"}
	runCondo(t, nil, "", "tenants", "create", "shop", "--data", data)
	runCondo(t, pw, "", "users", "create", "shop", "ed@example.com", "--data", data)
	archive := filepath.Join(t.TempDir(), "shop.tar.zst")
	if code, _, errOut := runCondo(t, nil, "", "tenants", "export", "shop", "-o", archive, "--data", data); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	runCondo(t, pw, "", "users", "create", "shop", "al@example.com", "--data", data) // after the export
	users := func() string {
		_, out, _ := runCondo(t, nil, "", "users", "list", "shop", "--data", data)
		return out
	}
	code, _, _ := runCondo(t, []string{"CONDO_TEST_LIFECYCLE_CRASH_AT=replace:staged"}, "", "tenants", "import", archive, "--replace", "--data", data)
	if u := users(); code != -1 || !strings.Contains(u, "al@example.com") || !strings.Contains(u, "ed@example.com") {
		t.Fatalf("killed before the swap: exit %d, users %q", code, u)
	}
	code, _, _ = runCondo(t, []string{"CONDO_TEST_LIFECYCLE_CRASH_AT=replace:swapped"}, "", "tenants", "import", archive, "--replace", "--data", data)
	if u := users(); code != -1 || strings.Contains(u, "al@example.com") || !strings.Contains(u, "ed@example.com") {
		t.Fatalf("killed after the swap: exit %d, users %q", code, u)
	}
	runCondo(t, pw, "", "users", "create", "shop", "al@example.com", "--data", data)
	code, out, errOut := runCondo(t, nil, "", "tenants", "import", archive, "--replace", "--data", data)
	if u := users(); code != 0 || !strings.Contains(out, "kept at") || strings.Contains(u, "al@example.com") {
		t.Fatalf("replace: %d %s %s, users %q", code, out, errOut, u)
	}
}

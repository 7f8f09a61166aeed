package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_Plans: plans list shows the built-in plans or a file's, a bad
// file fails with its line, set-plan moves a tenant, refuses an unknown
// plan, and reports a downgrade below usage.
func TestCLI_Plans(t *testing.T) {
	data := t.TempDir()
	mustCatalog(t, data)
	if code, _, errOut := run(t, "", "tenants", "create", "acme", "--data", data); code != 0 {
		t.Fatalf("create: %d %s", code, errOut)
	}
	code, out, _ := run(t, "", "plans", "list")
	if code != 0 || !strings.Contains(out, "enterprise") || !strings.Contains(out, "free") || !strings.Contains(out, "pro") {
		t.Fatalf("plans list: %d %s", code, out)
	}
	file := filepath.Join(t.TempDir(), "plans.yaml")
	os.WriteFile(file, []byte("plans:\n  free:\n    storage_quota: 10KB\n  pro:\n    user_limit: 5\n    bogus: 1\n"), 0o600)
	code, _, errOut := run(t, "", "plans", "list", "--plans", file)
	if code != 2 || !strings.Contains(errOut, "line 6") || !strings.Contains(errOut, "bogus") || strings.Contains(errOut, "planEntry") {
		t.Fatalf("bad file: %d %q, want exit 2 naming line 6 and the key", code, errOut)
	}
	oneErrorLine(t, errOut)

	if code, _, errOut := run(t, "", "tenants", "set-plan", "acme", "gold", "--data", data); code != 1 || !strings.Contains(errOut, `unknown plan "gold"`) {
		t.Fatalf("unknown plan: %d %q", code, errOut)
	}
	if code, out, errOut := run(t, "", "tenants", "set-plan", "acme", "pro", "--data", data); code != 0 || !strings.Contains(out, "plan pro") {
		t.Fatalf("set-plan pro: %d %s %s", code, out, errOut)
	}
	os.WriteFile(file, []byte("plans:\n  free:\n    storage_quota: 10KB\n"), 0o600)
	code, out, errOut = run(t, "", "tenants", "set-plan", "acme", "free", "--data", data, "--plans", file, "--json")
	if code != 0 {
		t.Fatalf("downgrade: %d %s", code, errOut)
	}
	var got struct {
		Tenant  struct{ Plan string } `json:"tenant"`
		Usage   struct{ Database int64 }
		Warning string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err, out)
	}
	if got.Tenant.Plan != "free" || got.Usage.Database <= 10_000 || !strings.Contains(got.Warning, "more than its new quota") {
		t.Fatalf("downgrade answer %+v", got)
	}
}

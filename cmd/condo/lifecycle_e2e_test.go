package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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

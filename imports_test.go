package condo_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/condohq/condo"

// imports returns the project packages imported by the non-test Go files
// of dir.
func imports(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == module || strings.HasPrefix(p, module+"/") {
				got[p] = true
			}
		}
	}
	return got
}

// TestImports_TenantDBSeam keeps the seam of the tenant database: the root
// package imports nothing of the project, and the domain packages reach a
// tenant's database only through condo.DB, never sqlitedb, so another
// implementation (libSQL) slots in without touching them.
func TestImports_TenantDBSeam(t *testing.T) {
	if got := imports(t, "."); len(got) > 0 {
		t.Errorf("package condo imports %v; it must import nothing of the project", got)
	}
	for _, dir := range []string{"cms", "auth"} {
		if imports(t, dir)[module+"/sqlitedb"] {
			t.Errorf("package %s imports sqlitedb; it must take condo.DB", dir)
		}
	}
}

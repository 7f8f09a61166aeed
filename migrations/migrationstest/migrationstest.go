// Package migrationstest builds tenant migration sets for tests: the
// embedded tenant set plus one extra step (version Version) from a named
// set under sets/, written to a directory as CONDO_TENANT_MIGRATIONS
// expects, or loaded.
//
// The sets: "wordcount" adds a column and an index to content; "unique"
// adds a unique index on content (collection_id, title), which fails on a
// tenant with duplicate titles; "notx" is the same as a no-transaction
// step, which leaves such a tenant dirty; "slow" burns CPU for a while.
package migrationstest

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/condohq/condo/migrations"
)

// Version is the version of every test set's extra step.
const Version = 101

// Base is the embedded tenant set's latest version: the version tenants
// are provisioned at, and the one every test set's extra step migrates
// down to. Tests use it rather than a literal so that adding an embedded
// tenant migration does not break them.
var Base = migrations.Tenant().Latest()

//go:embed sets
var sets embed.FS

// Dir writes the embedded tenant migrations and the steps of the named
// set into a new temporary directory and returns it.
func Dir(tb testing.TB, name string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, st := range migrations.Tenant().Steps() {
		write(tb, dir, fmt.Sprintf("%06d_%s.up.sql", st.Version, st.Name), st.Up)
		if st.Down != "" {
			write(tb, dir, fmt.Sprintf("%06d_%s.down.sql", st.Version, st.Name), st.Down)
		}
	}
	extra, err := fs.Sub(sets, "sets/"+name)
	if err != nil {
		tb.Fatal(err)
	}
	entries, err := fs.ReadDir(extra, ".")
	if err != nil || len(entries) == 0 {
		tb.Fatalf("migrationstest: no set %q (%v)", name, err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(extra, e.Name())
		if err != nil {
			tb.Fatal(err)
		}
		write(tb, dir, e.Name(), string(b))
	}
	return dir
}

// Set loads the embedded tenant migrations plus the named set's steps.
func Set(tb testing.TB, name string) *migrations.Set {
	tb.Helper()
	s, err := migrations.LoadDir(Dir(tb, name), "tenant")
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func write(tb testing.TB, dir, name, content string) {
	tb.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

package hrana

import (
	"context"
	"strings"
	"testing"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// Every table of the tenant schema has a kind in tables.go, and every
// trigger that writes the search index is one condoTriggers names: a
// migration that adds either must decide what clients may do with it.
func TestTables_CoverTheTenantSchema(t *testing.T) {
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
	env.MustCreate(t, "alpha")
	path, err := env.Store.Path("alpha")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlitedb.Open(path, sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Reader().QueryContext(context.Background(), "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema WHERE type IN ('table', 'trigger')")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var typ, name, table, sql string
		if err := rows.Scan(&typ, &name, &table, &sql); err != nil {
			t.Fatal(err)
		}
		n++
		switch {
		case typ == "table" && kindOf(name) == tenantTable && !strings.HasPrefix(name, "sqlite_"):
			t.Errorf("table %s has no kind in tables.go", name)
		case typ == "trigger" && !condoOwned(table):
			t.Errorf("trigger %s is on %s, not one of Condo's tables", name, table)
		case typ == "trigger" && strings.Contains(sql, "content_fts") && !condoTriggers[name]:
			t.Errorf("trigger %s writes the search index but is not in condoTriggers", name)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 15 {
		t.Fatalf("only %d tables and triggers: not the tenant schema", n)
	}
}

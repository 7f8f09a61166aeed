package cms

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// TestList_EveryIndexedFieldUsesItsIndex: for every type a field may be
// indexed as, a list filtered on the field (equality, a range, a set) and
// sorted by it reads the expression index CreateCollection made for it,
// in the page and in the count; over a range it takes its order from the
// index (ties broken by created_at, id, the index's own order) and stops
// at its LIMIT. (SQLite sorts the matches of an equality or a set on an
// expression: it does not treat the constrained expression as constant
// in ORDER BY.)
func TestList_EveryIndexedFieldUsesItsIndex(t *testing.T) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 4})
	env.MustCreate(t, "plans")
	h, release, err := env.Store.Acquire(ctx, "plans")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	st := New("plans", h.DB, t.TempDir())
	// One indexed field of each indexable type, with a value of it.
	fields := []struct {
		typ, extra string
		value      any
		ordered    bool // ranges apply
	}{
		{"string", "", "a", true},
		{"textarea", "", "a", true},
		{"email", "", "a@example.com", true},
		{"url", "", "https://example.com/", true},
		{"slug", "", "a-b", true},
		{"color", "", "#aabbcc", true},
		{"select", `, "enum": ["a", "b"]`, "a", true},
		{"radio", `, "enum": ["a", "b"]`, "a", true},
		{"number", "", 1.5, true},
		{"integer", "", 2, true},
		{"boolean", "", true, false},
		{"date", "", "2026-01-02", true},
		{"datetime", "", "2026-01-02T03:04:05Z", true},
		{"reference", `, "collection": "things"`, "some-id", true},
		{"media", "", "some-id", true},
	}
	var props []string
	for _, f := range fields {
		props = append(props, fmt.Sprintf(`"f_%s": {"type": %q, "indexed": true%s}`, f.typ, f.typ, f.extra))
	}
	col, err := st.CreateCollection(ctx, NewCollection{Name: "things", Schema: json.RawMessage(`{"type": "object", "properties": {` + strings.Join(props, ", ") + `}}`)})
	if err != nil {
		t.Fatal(err)
	}
	// Plans are read on a fresh handle, as a tenant opened after its
	// indexes were made reads them. (A connection that was open when
	// CreateCollection made the index can still plan with content_list:
	// see docs/PERFORMANCE.md.)
	db, err := sqlitedb.Open(mustLocal(t, h).Path, sqlitedb.Options{Readers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, f := range fields {
		name := "f_" + f.typ
		index := "USING INDEX " + indexPrefix + "things__" + name + " (collection_id=? AND <expr>"
		conds := map[string]string{
			"equals": cond(name, "equals", f.value),
			"in":     cond(name, "in", []any{f.value, f.value}),
		}
		if f.ordered {
			conds["range"] = and(cond(name, "greater_than_equal", f.value), cond(name, "less_than", f.value))
		}
		for op, c := range conds {
			for _, opt := range []ListOptions{{CollectionID: col.ID}, {CollectionID: col.ID, PublishedOnly: true}} {
				t.Run(fmt.Sprintf("%s/%s/published=%t", name, op, opt.PublishedOnly), func(t *testing.T) {
					if !strings.HasPrefix(c, "{") || op != "range" {
						c = and(c)
					}
					q, err := ParseListQuery(must(url.ParseQuery("limit=20&sort=-"+name+"&"+where(c))), col.Schema)
					if err != nil {
						t.Fatal(err)
					}
					sts, err := q.statements(opt)
					if err != nil {
						t.Fatal(err)
					}
					page := explain(t, db, sts.page, sts.pageArgs)
					if !strings.Contains(page, index) || op == "range" && strings.Contains(page, "TEMP B-TREE FOR ORDER BY") {
						t.Errorf("%s\npage plan, want %s and no sort:\n%s", sts.page, index, page)
					}
					if count := explain(t, db, sts.count, sts.countArgs); !strings.Contains(count, index) {
						t.Errorf("%s\ncount plan, want %s:\n%s", sts.count, index, count)
					}
				})
			}
		}
	}
}

// mustLocal returns the local file of h, a tenant on this node's volume.
func mustLocal(tb testing.TB, h *tenantstore.Handle) *sqlitedb.DB {
	tb.Helper()
	db, ok := h.Local()
	if !ok {
		tb.Fatalf("tenant %s is remote", h.TenantID)
	}
	return db
}

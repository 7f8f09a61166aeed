package fleet_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/fleet"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// Collections with every kind of CMS index: indexed, unique, and both, on
// string, number and date fields.
var rollbackCollections = []cms.NewCollection{
	{Name: "products", Schema: json.RawMessage(`{"type": "object", "properties": {
		"sku":      {"type": "string", "unique": true},
		"name":     {"type": "string", "indexed": true},
		"price":    {"type": "number", "indexed": true},
		"rank":     {"type": "number", "unique": true},
		"released": {"type": "date", "indexed": true, "unique": true},
		"note":     {"type": "string"}}}`)},
	{Name: "events", Schema: json.RawMessage(`{"type": "object", "properties": {
		"code": {"type": "string", "indexed": true, "unique": true},
		"day":  {"type": "date", "indexed": true}}}`)},
}

// tenantState is what a rollback and the way back up must keep: the
// CMS's indexes (names and definitions), live and trashed items.
type tenantState struct {
	Indexes [][2]string
	Live    []itemState
	Trash   []itemState
}

type itemState struct {
	ID, Title, Data string
	Version         int
	PublishAt       *time.Time
}

func readState(t *testing.T, ctx context.Context, st *cms.Store) tenantState {
	t.Helper()
	var s tenantState
	rows, err := st.DB.Reader().QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND name LIKE 'cx\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			t.Fatal(err)
		}
		s.Indexes = append(s.Indexes, p)
	}
	rows.Close()
	for _, c := range rollbackCollections {
		col, err := st.Collection(ctx, c.Name)
		if err != nil {
			t.Fatal(err)
		}
		page, err := st.List(ctx, &cms.ListQuery{Limit: 100}, cms.ListOptions{CollectionID: col.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			s.Live = append(s.Live, itemState{it.ID, it.Title, string(it.Data), it.Version, it.PublishAt})
		}
		trash, err := st.Trash(ctx, col, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range trash {
			s.Trash = append(s.Trash, itemState{it.ID, it.Title, string(it.Data), it.Version, it.PublishAt})
		}
	}
	return s
}

// A fleet whose tenants have collections with every kind of index rolls
// down to version 1 and up again to the latest: every tenant succeeds
// both ways, and afterwards the indexes, the items (versions, trash,
// schedules) and uniqueness are what they were, and indexed queries use
// the indexes.
func TestRunner_RollbackRebuildsIndexes(t *testing.T) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
	ids := []string{"alpha", "bravo", "charlie"}
	env.MustCreate(t, ids...)
	runner := fleet.New(env.Catalog, env.Store, nil)

	withCMS := func(id string, fn func(*cms.Store)) {
		t.Helper()
		h, release, err := env.Store.Acquire(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		fn(cms.New(id, h.DB, env.Store.MediaDir(id)))
	}
	item := func(st *cms.Store, col, title string, data map[string]any) *cms.Item {
		t.Helper()
		c, err := st.Collection(ctx, col)
		if err != nil {
			t.Fatal(err)
		}
		it, err := st.CreateItem(ctx, c, cms.ItemInput{Title: title, Data: data}, "")
		if err != nil {
			t.Fatalf("create %s in %s: %v", title, col, err)
		}
		return it
	}
	before := map[string]tenantState{}
	edited := map[string]string{}
	for _, id := range ids {
		withCMS(id, func(st *cms.Store) {
			for _, c := range rollbackCollections {
				if _, err := st.CreateCollection(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			a := item(st, "products", "A", map[string]any{"sku": "A-1", "name": "anvil", "price": 10, "rank": 1, "released": "2026-01-01"})
			// A trashed item keeps a value that a live item then takes:
			// unique fields only count live items.
			old := item(st, "products", "B", map[string]any{"sku": "B-1", "name": "bolt", "price": 20, "rank": 2, "released": "2026-02-01"})
			if _, err := st.TrashItem(ctx, old.ID, nil); err != nil {
				t.Fatal(err)
			}
			item(st, "products", "B2", map[string]any{"sku": "B-1", "name": "bolt", "price": 20, "rank": 2, "released": "2026-02-01"})
			col, _ := st.Collection(ctx, "products")
			at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			if _, err := st.UpdateItem(ctx, col, a.ID, cms.ItemInput{Title: "A", Data: map[string]any{
				"sku": "A-1", "name": "anvil", "price": 11, "rank": 1, "released": "2026-01-01", "note": "v2"}, PublishAt: &at}, ""); err != nil {
				t.Fatal(err)
			}
			edited[id] = a.ID
			item(st, "events", "E", map[string]any{"code": "E-1", "day": "2026-03-01"})
			before[id] = readState(t, ctx, st)
		})
	}
	if n := len(before[ids[0]].Indexes); n != 7 {
		t.Fatalf("%d CMS indexes before, want 7: %v", n, before[ids[0]].Indexes)
	}

	latest := env.Store.Migrations().Latest()
	rep, err := runner.Run(ctx, fleet.Options{Direction: fleet.Down, Target: 1, MaxFailures: len(ids)})
	if err != nil || rep.Status != catalog.RunSucceeded || rep.Migrated != len(ids) {
		t.Fatalf("down to 1: %+v, %v", rep, err)
	}
	for _, id := range ids {
		path, err := env.Store.Path(id)
		if err != nil {
			t.Fatal(err)
		}
		db, err := sqlitedb.Open(path, sqlitedb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		db.Read.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name LIKE 'cx\_%' ESCAPE '\'`).Scan(&n)
		v, _, _ := migrations.Version(ctx, db.Read)
		db.Close()
		if v != 1 || n != 0 {
			t.Errorf("%s after down: version %d, %d CMS indexes; want 1, none", id, v, n)
		}
	}
	rep, err = runner.Run(ctx, fleet.Options{Direction: fleet.Up, Target: latest, MaxFailures: len(ids)})
	if err != nil || rep.Status != catalog.RunSucceeded || rep.Migrated != len(ids) {
		t.Fatalf("up to %d: %+v, %v", latest, rep, err)
	}

	for _, id := range ids {
		withCMS(id, func(st *cms.Store) {
			if got := readState(t, ctx, st); !reflect.DeepEqual(got, before[id]) {
				t.Errorf("%s after down and up:\n got %+v\nwant %+v", id, got, before[id])
			}
			// Unique fields still refuse a live value, each kind.
			for _, tc := range []struct {
				col, field string
				data       map[string]any
			}{
				{"products", "sku", map[string]any{"sku": "B-1"}},
				{"products", "rank", map[string]any{"rank": 1}},
				{"products", "released", map[string]any{"released": "2026-01-01"}},
				{"events", "code", map[string]any{"code": "E-1"}},
			} {
				c, _ := st.Collection(ctx, tc.col)
				_, err := st.CreateItem(ctx, c, cms.ItemInput{Title: "dup", Data: tc.data}, "")
				var ce *condo.Error
				if !errors.As(err, &ce) || ce.Fields[tc.field] == "" {
					t.Errorf("%s: a duplicate %s.%s: %v, want refused naming the field", id, tc.col, tc.field, err)
				}
			}
			// Versions go on from the history.
			col, _ := st.Collection(ctx, "products")
			it, err := st.UpdateItem(ctx, col, edited[id], cms.ItemInput{Title: "A", Data: map[string]any{
				"sku": "A-1", "name": "anvil", "price": 12, "rank": 1, "released": "2026-01-01"}}, "")
			if err != nil || it.Version != 3 {
				t.Errorf("%s: update after the round trip: %+v, %v; want version 3", id, it, err)
			}
			// Indexed queries answer, through the rebuilt indexes.
			for field, value := range map[string]any{"name": "bolt", "price": 20, "released": "2026-02-01", "sku": "B-1"} {
				where := url.Values{"where": {mustJSON(t, map[string]any{"field": field, "operator": "equals", "value": value})}}
				q, err := cms.ParseListQuery(where, col.Schema)
				if err != nil {
					t.Fatal(err)
				}
				page, err := st.List(ctx, q, cms.ListOptions{CollectionID: col.ID})
				if err != nil || len(page.Items) != 1 || page.Items[0].Title != "B2" {
					t.Errorf("%s: where %s = %v: %+v, %v; want B2 alone", id, field, value, page, err)
				}
				var plan strings.Builder
				rows, err := st.DB.Reader().QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT id FROM content
					WHERE collection_id = ? AND json_extract(data, '$.`+field+`') = ? AND deleted_at IS NULL`, col.ID, value)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var a, b, c int
					var detail string
					rows.Scan(&a, &b, &c, &detail)
					plan.WriteString(detail + "; ")
				}
				rows.Close()
				if !strings.Contains(plan.String(), "cx_products__"+field) {
					t.Errorf("%s: a query on %s does not use its index: %s", id, field, plan.String())
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

package cms

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"testing"
)

// BenchmarkList_100k lists one collection of 100,000 items with an
// expression index on price: a price range sorted by price, 20 a page,
// with meta.total counted as List always does; then the parts and
// variants that show where the time goes.
func BenchmarkList_100k(b *testing.B) {
	const n = 100_000
	f := newListFixture(b)
	db := f.st.DB
	mustExec(b, db, `CREATE INDEX content_price ON content (collection_id, json_extract(data, '$.price')) WHERE deleted_at IS NULL`)
	r := rand.New(rand.NewPCG(7, 8))
	tx, err := db.Writer().Begin()
	if err != nil {
		b.Fatal(err)
	}
	ins, err := tx.Prepare(`INSERT INTO content (id, collection_id, slug, title, data, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'published', ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		id := fmt.Sprintf("item%06d", i)
		data := fmt.Sprintf(`{"name": "Item %d", "price": %.2f, "stock": %d, "body": "%s"}`,
			i, r.Float64()*1000, r.IntN(100), "Some text to give the row a realistic size. Lorem ipsum dolor sit amet.")
		if _, err := ins.Exec(id, f.products, id, fmt.Sprintf("Item %d", i), data, int64(i)*1000, int64(i)*1000); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	// No ANALYZE: Condo does not run it, so the planner works without
	// statistics, as in production.

	price := func(lo, hi float64) string {
		return where(and(cond("price", "greater_than_equal", lo), cond("price", "less_than_equal", hi)))
	}
	run := func(b *testing.B, params string) {
		q, err := ParseListQuery(must(url.ParseQuery(params)), f.schema)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		opt := ListOptions{CollectionID: f.products}
		var p *Page
		for b.Loop() {
			if p, err = f.st.List(ctx, q, opt); err != nil {
				b.Fatal(err)
			}
		}
		if len(p.Items) != 20 {
			b.Fatalf("%d items", len(p.Items))
		}
		b.ReportMetric(float64(p.Total), "total")
	}
	// The total alone: the count List runs with the page.
	count := func(b *testing.B, params string) {
		q, err := ParseListQuery(must(url.ParseQuery(params)), f.schema)
		if err != nil {
			b.Fatal(err)
		}
		st, err := q.statements(ListOptions{CollectionID: f.products})
		if err != nil {
			b.Fatal(err)
		}
		var total int
		for b.Loop() {
			if err := db.Reader().QueryRow(st.count, st.countArgs...).Scan(&total); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(total), "total")
	}
	// page20 is the page of 20 after the first 5,000 items, by cursor.
	page20 := func(params string) string {
		p := f.mustList(b, params+"&limit=1000&offset=4000", ListOptions{})
		return params + "&limit=20&cursor=" + p.NextCursor
	}

	mid := price(400, 600) // about 20% of the items
	b.Run("PriceRange1pct", func(b *testing.B) { run(b, "limit=20&sort=price&"+price(500, 510)) })
	b.Run("PriceRange20pct", func(b *testing.B) { run(b, "limit=20&sort=price&"+mid) })
	b.Run("PriceRange20pct/CountOnly", func(b *testing.B) { count(b, "sort=price&"+mid) })
	b.Run("PriceRange20pct/Cursor5000", func(b *testing.B) { run(b, page20("sort=price&"+mid)) })
	b.Run("PriceRange20pct/Offset5000", func(b *testing.B) { run(b, "limit=20&offset=5000&sort=price&"+mid) })
	b.Run("PriceRange20pctDesc", func(b *testing.B) { run(b, "limit=20&sort=-price&"+mid) })
	b.Run("PriceRange20pctDesc/Cursor5000", func(b *testing.B) { run(b, page20("sort=-price&"+mid)) })
	b.Run("PriceAll", func(b *testing.B) { run(b, "limit=20&sort=price&"+price(0, 1000)) })
	b.Run("PriceAll/CountOnly", func(b *testing.B) { count(b, "sort=price&"+price(0, 1000)) })
	b.Run("Newest", func(b *testing.B) { run(b, "limit=20") })
	b.Run("Newest/CountOnly", func(b *testing.B) { count(b, "") })
	b.Run("Newest/Cursor5000", func(b *testing.B) { run(b, page20("")) })
	// stock has no index: the filter reads every item's JSON.
	b.Run("UnindexedStock", func(b *testing.B) { run(b, "limit=20&"+where(and(cond("stock", "equals", 7)))) })
}

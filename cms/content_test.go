package cms_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

func newContent(tb testing.TB, ids ...string) (*tenantstoretest.Env, map[string]*cms.Store) {
	tb.Helper()
	env := tenantstoretest.MustOpen(tb, catalog.Config{}, tenantstore.Config{PoolSize: 16})
	env.MustCreate(tb, ids...)
	out := map[string]*cms.Store{}
	for _, id := range ids {
		h, release, err := env.Store.Acquire(context.Background(), id)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(release)
		st := cms.New(id, h.DB, tb.TempDir())
		if _, err := st.CreateCollection(context.Background(), cms.NewCollection{Name: "posts", Public: true,
			Schema: json.RawMessage(`{"type":"object","properties":{"title":{"type":"string"},"body":{"type":"richtext"},"price":{"type":"number","indexed":true}}}`)}); err != nil {
			tb.Fatal(err)
		}
		out[id] = st
	}
	return env, out
}

// TestScheduler publishes and unpublishes on time through the catalog's
// schedule, opening only the tenant that is due.
func TestScheduler(t *testing.T) {
	ctx := context.Background()
	env, stores := newContent(t, "sched", "idle")
	st := stores["sched"]
	col, err := st.Collection(ctx, "posts")
	if err != nil {
		t.Fatal(err)
	}
	// The clock is passed to each Pass, so a loaded machine cannot make
	// the first pass late.
	start := time.Now()
	soon := start.Add(time.Hour)
	later := soon.Add(time.Hour)
	it, err := st.CreateItem(ctx, col, cms.ItemInput{Title: "Embargoed", PublishAt: &soon, UnpublishAt: &later}, "")
	if err != nil {
		t.Fatal(err)
	}
	next, err := st.NextDue(ctx, cms.TrashRetention)
	if err != nil || next == nil || !next.Equal(soon.Truncate(time.Millisecond)) {
		t.Fatalf("next due %v, %v; want %v", next, err, soon)
	}
	if err := env.Catalog.SetContentDue(ctx, "sched", next); err != nil {
		t.Fatal(err)
	}
	cache := cms.NewCache(10, time.Minute, nil)
	sc := &cms.Scheduler{Catalog: env.Catalog, Store: env.Store, Cache: cache}
	if n := sc.Pass(ctx, start); n != 0 {
		t.Fatalf("pass before the time changed %d", n)
	}
	status := func() string {
		got, _, err := st.Item(ctx, it.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}
	if n := sc.Pass(ctx, soon.Add(10*time.Millisecond)); n != 1 || status() != cms.StatusPublished {
		t.Fatalf("pass at publish time: %d changed, status %s", n, status())
	}
	if n := sc.Pass(ctx, later.Add(10*time.Millisecond)); n != 1 || status() != cms.StatusArchived || cache.Generation("sched") != 2 {
		t.Fatalf("pass at unpublish time: %d changed, status %s", n, status())
	}
	hist, _ := st.History(ctx, it.ID)
	if len(hist) != 2 || hist[0].Action != "scheduled_publish" || hist[1].Action != "scheduled_unpublish" {
		t.Fatalf("history: %+v", hist)
	}
	if due, _ := env.Catalog.DueTenants(ctx, time.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Fatalf("still due: %v", due)
	}
}

// BenchmarkCreateItem creates items in 8 tenants at once: validation, the
// version row, the search index and the commit of each.
func BenchmarkCreateItem(b *testing.B) {
	ids := []string{"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"}
	_, stores := newContent(b, ids...)
	cols := map[string]*cms.Collection{}
	for id, st := range stores {
		cols[id], _ = st.Collection(context.Background(), "posts")
	}
	var n, worker atomic.Int64
	b.SetParallelism(4) // 8 goroutines on 2 CPUs, one tenant each
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		id := ids[worker.Add(1)%int64(len(ids))]
		st, col := stores[id], cols[id]
		for pb.Next() {
			k := n.Add(1)
			_, err := st.CreateItem(context.Background(), col, cms.ItemInput{Title: fmt.Sprintf("Item %d", k),
				Data: map[string]any{"body": "<p>some <b>rich</b> text about sourdough</p>", "price": float64(k % 1000)}}, "")
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "items/s")
}

// BenchmarkSearch searches 20,000 items for a word about one in eight of
// them holds.
func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	_, stores := newContent(b, "big")
	st := stores["big"]
	col, _ := st.Collection(ctx, "posts")
	words := []string{"sourdough", "flour", "water", "salt", "starter", "oven", "crust", "crumb"}
	for i := range 20_000 {
		text := words[i%8] + " " + words[(i/8)%8]
		if _, err := st.CreateItem(ctx, col, cms.ItemInput{Title: fmt.Sprintf("Item %d %s", i, text), Status: cms.StatusPublished,
			Data: map[string]any{"body": "<p>" + text + " bread</p>"}}, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		hits, err := st.Search(ctx, "crumb", cms.SearchOptions{PublishedOnly: true, PublicOnly: true, Limit: 20})
		if err != nil || len(hits) != 20 {
			b.Fatal(len(hits), err)
		}
	}
}

// TestSearchWindowSeesOnlyVisible: hidden matches (drafts) newer than a
// published one must not push it out of the ranking window.
func TestSearchWindowSeesOnlyVisible(t *testing.T) {
	ctx := context.Background()
	_, stores := newContent(t, "win")
	st := stores["win"]
	col, _ := st.Collection(ctx, "posts")
	if _, err := st.CreateItem(ctx, col, cms.ItemInput{Title: "needle published", Status: cms.StatusPublished}, ""); err != nil {
		t.Fatal(err)
	}
	for i := range cms.RankWindow + 5 {
		if _, err := st.CreateItem(ctx, col, cms.ItemInput{Title: fmt.Sprintf("needle draft %d", i)}, ""); err != nil {
			t.Fatal(err)
		}
	}
	hits, err := st.Search(ctx, "needle", cms.SearchOptions{PublishedOnly: true, PublicOnly: true})
	if err != nil || len(hits) != 1 {
		t.Fatalf("hits %d, %v; want the published one", len(hits), err)
	}
}

// TestSearchVisibility: anonymous searches see published items of public
// collections only, whatever writes the rows (the triggers keep the index
// right for raw SQL too); a collection filter keeps to that collection;
// words that look like the index's own visibility tokens are just words.
func TestSearchVisibility(t *testing.T) {
	ctx := context.Background()
	_, stores := newContent(t, "vis")
	st := stores["vis"]
	posts, _ := st.Collection(ctx, "posts")
	private, err := st.CreateCollection(ctx, cms.NewCollection{Name: "notes",
		Schema: json.RawMessage(`{"type":"object","properties":{"body":{"type":"richtext"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	create := func(col *cms.Collection, title, status string) *cms.Item {
		t.Helper()
		it, err := st.CreateItem(ctx, col, cms.ItemInput{Title: title, Status: status, Data: map[string]any{"body": "<p>unpublished c" + fmt.Sprint(len(title)) + "</p>"}}, "")
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	pub := create(posts, "needle public", cms.StatusPublished)
	create(posts, "needle draft", cms.StatusDraft)
	create(private, "needle private", cms.StatusPublished)
	titles := func(q string, opt cms.SearchOptions) []string {
		t.Helper()
		hits, err := st.Search(ctx, q, opt)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range hits {
			out = append(out, h.Title)
		}
		slices.Sort(out)
		return out
	}
	anon := cms.SearchOptions{PublishedOnly: true, PublicOnly: true}
	for _, q := range []string{"needle", "needl", "unpublished", "needle unpublished"} {
		if got := titles(q, anon); !slices.Equal(got, []string{"needle public"}) {
			t.Errorf("anonymous %q: %v", q, got)
		}
	}
	if got := titles("needle", cms.SearchOptions{PublishedOnly: true}); !slices.Equal(got, []string{"needle private", "needle public"}) {
		t.Errorf("content.read: %v", got)
	}
	if got := titles("needle", cms.SearchOptions{}); len(got) != 3 {
		t.Errorf("content.read_drafts: %v", got)
	}
	if got := titles("needle", cms.SearchOptions{Collection: "notes"}); !slices.Equal(got, []string{"needle private"}) {
		t.Errorf("collection notes: %v", got)
	}
	if got := titles("needle", cms.SearchOptions{Collection: "notes", PublicOnly: true, PublishedOnly: true}); len(got) != 0 {
		t.Errorf("anonymous, private collection: %v", got)
	}
	if got := titles("needle", cms.SearchOptions{Collection: "nothing"}); len(got) != 0 {
		t.Errorf("unknown collection: %v", got)
	}
	// A raw write (the coming libSQL endpoint's kind) unpublishes: the
	// triggers take the item out of anonymous searches.
	if _, err := st.DB.Writer().Exec(`UPDATE content SET status = 'draft' WHERE id = ?`, pub.ID); err != nil {
		t.Fatal(err)
	}
	if got := titles("needle", anon); len(got) != 0 {
		t.Errorf("anonymous after a raw unpublish: %v", got)
	}
	if _, err := st.DB.Writer().Exec(`UPDATE content SET status = 'published' WHERE id = ?`, pub.ID); err != nil {
		t.Fatal(err)
	}
	if got := titles("needle", anon); !slices.Equal(got, []string{"needle public"}) {
		t.Errorf("anonymous after a raw publish: %v", got)
	}
	// Moved to the private collection by raw SQL: hidden again.
	if _, err := st.DB.Writer().Exec(`UPDATE content SET collection_id = ? WHERE id = ?`, private.ID, pub.ID); err != nil {
		t.Fatal(err)
	}
	if got := titles("needle", anon); len(got) != 0 {
		t.Errorf("anonymous after a raw move to a private collection: %v", got)
	}
}

// TestSearchPrefix: the last word matches as a prefix, through the prefix
// index (two or three characters), through its terms (longer words, with
// more terms than are expanded too), and a one-character word as itself.
func TestSearchPrefix(t *testing.T) {
	ctx := context.Background()
	_, stores := newContent(t, "pfx")
	st := stores["pfx"]
	col, _ := st.Collection(ctx, "posts")
	titles := []string{"Sourdough starter", "Sour cherries", "A tale", "Café crème"}
	for i := range 40 {
		titles = append(titles, fmt.Sprintf("Sourdoughvariant%02d", i))
	}
	for _, title := range titles {
		if _, err := st.CreateItem(ctx, col, cms.ItemInput{Title: title, Status: cms.StatusPublished}, ""); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		q    string
		want int
	}{
		{"so", 42}, {"sou", 42}, {"sour", 42}, {"sourdough", 41}, {"sourdoughvariant0", 10}, {"SOURDOUGHVARIANT01", 1},
		{"sourdough sta", 1}, {"a", 1}, {"t", 0}, {"caf", 1}, {"café", 1}, {"creme", 1}, {"zzzz", 0}, {"starter sour", 1},
	}
	for _, tt := range tests {
		hits, err := st.Search(ctx, tt.q, cms.SearchOptions{PublishedOnly: true, PublicOnly: true, Limit: 100})
		if err != nil || len(hits) != tt.want {
			t.Errorf("%q: %d hits, %v; want %d", tt.q, len(hits), err, tt.want)
		}
	}
}

package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/tenantstore"
)

// bagSchema has twenty independent fields, k0 to k19.
func bagSchema() string {
	props := make([]string, 20)
	for i := range props {
		props[i] = fmt.Sprintf(`"k%d": {"type": "string"}`, i)
	}
	return `{"name": "bag", "public": true, "schema": {"type": "object", "properties": {` + strings.Join(props, ", ") + `}}}`
}

// errorFields returns the fields of an error answer.
func errorFields(res response) map[string]any {
	e, _ := res.Raw["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	return f
}

// TestContent_ConcurrentPatch: PATCHes of different data keys made at the
// same time all survive, each merged into the item as the one before left
// it.
func TestContent_ConcurrentPatch(t *testing.T) {
	e := newCMS(t, api.Config{})
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/collections", e.admin, bagSchema()), 201, "")
	res := e.call(t, "tenant-a", "POST", "/api/collections/bag/content", e.editor, `{"title": "Bag"}`)
	wantStatus(t, res, 201, "")
	id := res.Data["id"].(string)

	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = e.call(t, "tenant-a", "PATCH", "/api/content/"+id, e.editor, fmt.Sprintf(`{"data": {"k%d": "v%d"}}`, i, i)).Status
		})
	}
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Errorf("PATCH k%d: %d", i, st)
		}
	}
	got := e.call(t, "tenant-a", "GET", "/api/content/"+id, e.editor, "")
	if v := got.Data["version"]; v != float64(21) {
		t.Errorf("version %v, want 21", v)
	}
	data := got.Data["data"].(map[string]any)
	for i := range 20 {
		if k := fmt.Sprintf("k%d", i); data[k] != fmt.Sprintf("v%d", i) {
			t.Errorf("%s = %v: a concurrent PATCH was lost (data %v)", k, data[k], data)
		}
	}
}

// TestContent_IfMatch: item and collection answers carry version tags,
// and conditional writes refuse with 412 when the resource moved on.
func TestContent_IfMatch(t *testing.T) {
	e := newCMS(t, api.Config{})
	created := e.call(t, "tenant-a", "POST", "/api/collections/posts/content", e.editor, `{"title": "Tagged"}`)
	wantStatus(t, created, 201, "")
	id := created.Data["id"].(string)
	v1 := `"` + id + `-v1"`
	if got := created.Header.Get("ETag"); got != v1 {
		t.Fatalf("POST ETag %q, want %q", got, v1)
	}
	if got := e.call(t, "tenant-a", "GET", "/api/content/"+id, e.editor, "").Header.Get("ETag"); got != v1 {
		t.Fatalf("GET ETag %q, want the POST's %q", got, v1)
	}
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)

	path := "/api/content/" + id
	steps := []struct {
		name, method, path, body string
		header                   []string
		wantStatus               int
		wantETag                 string // after the step; "" when it fails
	}{
		{"PatchStale", "PATCH", path, `{"title": "A"}`, []string{"If-Match", `"` + id + `-v0"`}, 412, ""},
		{"PatchWeakNeverMatches", "PATCH", path, `{"title": "A"}`, []string{"If-Match", "W/" + v1}, 412, ""},
		{"PatchCurrent", "PATCH", path, `{"title": "A"}`, []string{"If-Match", `"other", ` + v1}, 200, `"` + id + `-v2"`},
		{"PutStale", "PUT", path, `{"title": "B"}`, []string{"If-Match", v1}, 412, ""},
		{"PutStar", "PUT", path, `{"title": "B"}`, []string{"If-Match", "*"}, 200, `"` + id + `-v3"`},
		{"PutUnmodifiedSincePast", "PUT", path, `{"title": "C"}`, []string{"If-Unmodified-Since", past}, 412, ""},
		{"PutUnmodifiedSinceFuture", "PUT", path, `{"title": "C"}`, []string{"If-Unmodified-Since", future}, 200, `"` + id + `-v4"`},
		{"TransitionStale", "POST", path + "/transition", `{"to": "review"}`, []string{"If-Match", v1}, 412, ""},
		{"TransitionCurrent", "POST", path + "/transition", `{"to": "review"}`, []string{"If-Match", `"` + id + `-v4"`}, 200, `"` + id + `-v5"`},
		{"RestoreStale", "POST", path + "/versions/1/restore", ``, []string{"If-Match", v1}, 412, ""},
		{"DeleteStale", "DELETE", path, ``, []string{"If-Match", v1}, 412, ""},
		{"DeleteUnmodifiedSincePast", "DELETE", path, ``, []string{"If-Unmodified-Since", past}, 412, ""},
	}
	current := `"` + id + `-v1"`
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			res := e.call(t, "tenant-a", st.method, st.path, e.editor, st.body, st.header...)
			if res.Status != st.wantStatus {
				t.Fatalf("got %d %v, want %d", res.Status, res.Raw, st.wantStatus)
			}
			if st.wantStatus == 412 {
				if res.Error.Code != "precondition_failed" || res.Header.Get("ETag") != current {
					t.Fatalf("412 without the current state: %v %v", res.Header, res.Raw)
				}
				if f := errorFields(res); f["etag"] != current || !strings.HasSuffix(current, "-v"+fmt.Sprint(f["version"])+`"`) {
					t.Fatalf("412 fields %v, want the current version of %s", f, current)
				}
				return
			}
			current = st.wantETag
			if got := res.Header.Get("ETag"); got != current {
				t.Fatalf("answer ETag %q, want %q", got, current)
			}
			if got := e.call(t, "tenant-a", "GET", path, e.editor, "").Header.Get("ETag"); got != current {
				t.Fatalf("GET after the write: ETag %q, want %q", got, current)
			}
		})
	}
	wantStatus(t, e.call(t, "tenant-a", "DELETE", path, e.editor, "", "If-Match", current), 204, "")

	t.Run("Collection", func(t *testing.T) {
		get := e.call(t, "tenant-a", "GET", "/api/collections/authors", e.admin, "")
		tag := get.Header.Get("ETag")
		if !strings.HasSuffix(tag, `-v1"`) {
			t.Fatalf("collection ETag %q", tag)
		}
		if res := e.call(t, "tenant-a", "GET", "/api/collections/authors", e.admin, "", "If-None-Match", tag); res.Status != 304 {
			t.Fatalf("If-None-Match: %d", res.Status)
		}
		put := e.call(t, "tenant-a", "PUT", "/api/collections/authors", e.admin, `{"description": "People"}`, "If-Match", tag)
		wantStatus(t, put, 200, "")
		next := put.Header.Get("ETag")
		if next == tag || put.Data["version"] != float64(2) {
			t.Fatalf("PUT: ETag %q (was %q), version %v", next, tag, put.Data["version"])
		}
		res := e.call(t, "tenant-a", "PUT", "/api/collections/authors", e.admin, `{"description": "Lost"}`, "If-Match", tag)
		if wantStatus(t, res, 412, "precondition_failed"); errorFields(res)["version"] != "2" {
			t.Fatalf("412 fields: %v", res.Raw)
		}
		wantStatus(t, e.call(t, "tenant-a", "DELETE", "/api/collections/authors", e.admin, "", "If-Match", tag), 412, "precondition_failed")
		wantStatus(t, e.call(t, "tenant-a", "DELETE", "/api/collections/authors", e.admin, "", "If-Match", next), 204, "")
	})
}

// TestContent_IfMatchRace: of writes made at once with the same If-Match,
// exactly one wins; the check is made inside the write transaction.
func TestContent_IfMatchRace(t *testing.T) {
	e := newCMS(t, api.Config{})
	id := e.create(t, e.editor, `{"title": "Raced"}`)["id"].(string)
	const n = 8
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = e.call(t, "tenant-a", "PATCH", "/api/content/"+id, e.editor, fmt.Sprintf(`{"title": "Writer %d"}`, i),
				"If-Match", `"`+id+`-v1"`).Status
		})
	}
	wg.Wait()
	won := 0
	for _, st := range statuses {
		switch st {
		case http.StatusOK:
			won++
		case http.StatusPreconditionFailed:
		default:
			t.Errorf("status %d", st)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers won with the same If-Match (%v), want 1", won, statuses)
	}
}

// nest returns a JSON array nested levels deep.
func nest(levels int) string {
	return strings.Repeat("[", levels) + strings.Repeat("]", levels)
}

// TestContent_DeepJSON: a json field nested past what SQLite stores is a
// 400 naming the field, however deep; one just within the limit is stored.
func TestContent_DeepJSON(t *testing.T) {
	e := newCMS(t, api.Config{})
	// The data object is level 1, so the field's value may nest
	// MaxDataDepth-1 levels.
	within := cms.MaxDataDepth - 1
	for _, tc := range []struct {
		name   string
		levels int
		want   int
	}{
		{"AtTheLimit", within, 201},
		{"OnePast", within + 1, 400},
		{"Thousand", 1000, 400},
		{"TenThousand", 10_000, 400},
		{"HundredThousand", 100_000, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"title": "Deep", "data": {"extra": ` + nest(tc.levels) + `}}`
			res := e.call(t, "tenant-a", "POST", "/api/collections/posts/content", e.editor, body)
			if res.Status != tc.want {
				t.Fatalf("got %d %v, want %d", res.Status, res.Raw, tc.want)
			}
			if tc.want == 400 {
				if res.Error.Code != "validation_failed" || errorFields(res)["extra"] == nil {
					t.Fatalf("the refusal does not name the field: %v", res.Raw)
				}
				return
			}
			id := res.Data["id"].(string)
			// Stored, versioned and editable: PATCH and PUT go through the
			// same checks.
			wantStatus(t, e.call(t, "tenant-a", "PATCH", "/api/content/"+id, e.editor, `{"title": "Deeper"}`), 200, "")
			wantStatus(t, e.call(t, "tenant-a", "PATCH", "/api/content/"+id, e.editor, `{"data": {"extra": `+nest(within+1)+`}}`), 400, "validation_failed")
			wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/content/"+id, e.editor, `{"title": "X", "data": {"extra": `+nest(10_000)+`}}`), 400, "validation_failed")
			if v := e.call(t, "tenant-a", "GET", "/api/content/"+id+"/versions/2", e.editor, ""); v.Status != 200 {
				t.Fatalf("version 2: %d %v", v.Status, v.Raw)
			}
		})
	}
}

// testClock is a clock a test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// TestContent_CacheAcrossServers: two servers on one data directory (an
// overlapping deploy). A write made through one reaches the other's
// anonymous readers once the resolution TTL has passed, not never.
func TestContent_CacheAcrossServers(t *testing.T) {
	e := newCMS(t, api.Config{})
	ctx := context.Background()
	cat, err := catalog.Open(ctx, e.DataDir, catalog.Config{HeaderFallback: true})
	if err != nil {
		t.Fatal(err)
	}
	store := tenantstore.New(cat, tenantstore.Config{DataDir: e.DataDir, PoolSize: 8})
	clock := &testClock{t: time.Now()}
	b := api.New(cat, store, api.Config{Secret: testSecret, Now: clock.Now})
	srvB := httptest.NewServer(b)
	t.Cleanup(func() {
		srvB.Close()
		store.Close(ctx)
		cat.Close()
	})
	readB := func(path string) response {
		return do(t, srvB, "GET", "tenant-a.localhost", path, nil)
	}

	id := e.create(t, e.editor, `{"title": "Shared", "status": "published"}`)["id"].(string)
	list := "/api/collections/posts/content"
	readB("/api/content/" + id)
	readB(list)
	if res := readB("/api/content/" + id); res.Status != 200 || res.Header.Get("X-Cache") != "hit" {
		t.Fatalf("B does not cache: %d %v", res.Status, res.Header)
	}
	wantStatus(t, e.call(t, "tenant-a", "DELETE", "/api/content/"+id, e.editor, ""), 204, "")
	wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/collections/posts", e.admin, `{"public": false}`), 200, "")
	// Within the TTL, B may still answer what it read: that is the bound.
	if res := readB("/api/content/" + id); res.Header.Get("X-Cache") != "hit" {
		t.Fatalf("B's entry expired before the TTL: %d %v", res.Status, res.Header)
	}

	clock.Advance(catalog.DefaultCacheTTL)
	wantStatus(t, readB("/api/content/"+id), 404, "content_not_found")
	// The parsed collection expired too: posts is private now.
	wantStatus(t, readB(list), 404, "collection_not_found")
}

// TestContent_CacheControl: anonymous reads of published content are
// public for the collection's policy; reads with a credential are private.
func TestContent_CacheControl(t *testing.T) {
	e := newCMS(t, api.Config{})
	id := e.create(t, e.editor, `{"title": "Cacheable", "status": "published"}`)["id"].(string)
	def := "public, max-age=60, stale-while-revalidate=30"
	for _, tc := range []struct {
		name, path, token, want string
	}{
		{"ItemAnonymous", "/api/content/" + id, "", def},
		{"ItemAnonymousHit", "/api/content/" + id, "", def},
		{"ItemSignedIn", "/api/content/" + id, e.viewer, "private, no-store"},
		{"ListAnonymous", "/api/collections/posts/content", "", def},
		{"ListAnonymousHit", "/api/collections/posts/content", "", def},
		{"ListDrafts", "/api/collections/posts/content?status=draft", e.editor, "private, no-store"},
		{"SearchAnonymous", "/api/search?q=cacheable", "", def},
		{"SearchSignedIn", "/api/search?q=cacheable", e.editor, "private, no-store"},
		{"CollectionAnonymous", "/api/collections/posts", "", def},
		{"CollectionSignedIn", "/api/collections/posts", e.admin, "private, no-store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.call(t, "tenant-a", "GET", tc.path, tc.token, "")
			wantStatus(t, res, 200, "")
			if got := res.Header.Get("Cache-Control"); got != tc.want {
				t.Fatalf("Cache-Control %q, want %q", got, tc.want)
			}
			if !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Authorization") {
				t.Fatalf("no Vary: Authorization: %v", res.Header)
			}
			tag := res.Header.Get("ETag")
			again := e.call(t, "tenant-a", "GET", tc.path, tc.token, "", "If-None-Match", tag)
			if again.Status != 304 || again.Header.Get("Cache-Control") != tc.want || again.Header.Get("ETag") != tag {
				t.Fatalf("If-None-Match %s: %d %v", tag, again.Status, again.Header)
			}
		})
	}

	t.Run("PerCollection", func(t *testing.T) {
		put := e.call(t, "tenant-a", "PUT", "/api/collections/posts", e.admin, `{"cache": {"max_age": 300, "stale_while_revalidate": 5}}`)
		wantStatus(t, put, 200, "")
		want := "public, max-age=300, stale-while-revalidate=5"
		for _, p := range []string{"/api/content/" + id, "/api/collections/posts/content", "/api/search?q=cacheable&collection=posts"} {
			if got := e.call(t, "tenant-a", "GET", p, "", "").Header.Get("Cache-Control"); got != want {
				t.Errorf("%s: Cache-Control %q, want %q", p, got, want)
			}
		}
		wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/collections/posts", e.admin, `{"cache": {"max_age": -1}}`), 400, "invalid_cache")
		wantStatus(t, e.call(t, "tenant-a", "POST", "/api/collections", e.admin, `{"name": "fresh", "public": true, "cache": {"max_age": 0}}`), 201, "")
		if got := e.call(t, "tenant-a", "GET", "/api/collections/fresh/content", "", "").Header.Get("Cache-Control"); got != "public, max-age=0, stale-while-revalidate=30" {
			t.Errorf("max_age 0: Cache-Control %q", got)
		}
	})
}

// TestSettings_IfMatch: settings answers carry an ETag of their body, and
// a PUT made on stale settings is refused.
func TestSettings_IfMatch(t *testing.T) {
	e := newCMS(t, api.Config{})
	get := e.call(t, "tenant-a", "GET", "/api/settings", e.admin, "")
	wantStatus(t, get, 200, "")
	tag := get.Header.Get("ETag")
	if tag == "" || get.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("GET settings headers: %v", get.Header)
	}
	if res := e.call(t, "tenant-a", "GET", "/api/settings", e.admin, "", "If-None-Match", tag); res.Status != 304 {
		t.Fatalf("If-None-Match: %d", res.Status)
	}
	put := e.call(t, "tenant-a", "PUT", "/api/settings", e.admin, `{"general": {"site": "One"}}`, "If-Match", tag)
	wantStatus(t, put, 200, "")
	next := put.Header.Get("ETag")
	if next == tag || next == "" {
		t.Fatalf("PUT ETag %q, was %q", next, tag)
	}
	if got := e.call(t, "tenant-a", "GET", "/api/settings", e.admin, "").Header.Get("ETag"); got != next {
		t.Fatalf("GET after PUT: ETag %q, want the PUT's %q", got, next)
	}
	stale := e.call(t, "tenant-a", "PUT", "/api/settings", e.admin, `{"general": {"site": "Lost"}}`, "If-Match", tag)
	if wantStatus(t, stale, 412, "precondition_failed"); stale.Header.Get("ETag") != next {
		t.Fatalf("412 ETag %q, want %q", stale.Header.Get("ETag"), next)
	}
	// A branding change is part of the settings too.
	wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/settings", e.admin, `{"branding": {"color": "#123456"}}`, "If-Match", next), 200, "")
	wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/settings", e.admin, `{"general": {"site": "Lost"}}`, "If-Match", next), 412, "precondition_failed")
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/settings", e.admin, `{"general": {"site": "Lost"}}`, "If-Unmodified-Since", past), 412, "precondition_failed")
	if got := e.call(t, "tenant-a", "GET", "/api/settings", e.admin, ""); got.Data["general"].(map[string]any)["site"] != "One" {
		t.Fatalf("a refused PUT changed the settings: %v", got.Data)
	}
	deep := `{"general": {"a": ` + nest(500) + `}}`
	wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/settings", e.admin, deep), 400, "invalid_settings")
}

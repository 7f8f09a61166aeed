package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/auth"
)

// postsSchema has one field of every type.
const postsSchema = `{"name": "posts", "display_name": "Posts", "public": true, "schema": {"type": "object", "properties": {
	"title":    {"type": "string", "required": true, "maxLength": 120},
	"body":     {"type": "richtext"},
	"notes":    {"type": "markdown"},
	"summary":  {"type": "textarea", "maxLength": 500},
	"price":    {"type": "number", "minimum": 0, "indexed": true},
	"stock":    {"type": "integer", "minimum": 0, "maximum": 1000},
	"featured": {"type": "boolean", "default": false},
	"day":      {"type": "date"},
	"at":       {"type": "datetime"},
	"contact":  {"type": "email"},
	"link":     {"type": "url"},
	"color":    {"type": "color"},
	"kind":     {"type": "select", "enum": ["news", "review"]},
	"tags":     {"type": "multiselect", "enum": ["a", "b", "c"]},
	"handle":   {"type": "slug", "unique": true},
	"author":   {"type": "reference", "collection": "authors"},
	"cover":    {"type": "media"},
	"sku":      {"type": "string", "pattern": "^[A-Z]{3}-[0-9]+$", "unique": true},
	"points":   {"type": "array", "items": {"type": "integer"}, "maxItems": 3},
	"address":  {"type": "object", "properties": {"city": {"type": "string", "required": true}}},
	"extra":    {"type": "json"}
}, "required": ["title"]}}`

type cmsEnv struct {
	*idEnv
	admin, editor, author, viewer string
}

func newCMS(t *testing.T, cfg api.Config) *cmsEnv {
	t.Helper()
	e := &cmsEnv{idEnv: newIdentity(t, cfg)}
	e.admin = e.AdminToken(t, "tenant-a")
	for _, role := range []string{"editor", "author", "viewer"} {
		e.User(t, "tenant-a", role+"@example.com", role, "password of "+role)
	}
	e.editor, _ = e.Login(t, "tenant-a", "editor@example.com", "password of editor")
	e.author, _ = e.Login(t, "tenant-a", "author@example.com", "password of author")
	e.viewer, _ = e.Login(t, "tenant-a", "viewer@example.com", "password of viewer")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections", e.admin, `{"name": "authors", "schema": {"type": "object", "properties": {"name": {"type": "string"}}}}`), 201, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections", e.admin, postsSchema), 201, "")
	return e
}

// create makes a post and returns its id.
func (e *cmsEnv) create(t *testing.T, token, body string) map[string]any {
	t.Helper()
	res := e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", token, body)
	apitest.WantStatus(t, res, 201, "")
	return res.Data
}

func TestContent_FieldTypes(t *testing.T) {
	e := newCMS(t, api.Config{})
	author := e.Call(t, "tenant-a", "POST", "/api/collections/authors/content", e.admin, `{"title": "Ann", "data": {"name": "Ann"}}`).Data["id"].(string)
	good := `{"title": "Hello", "data": {"body": "<p>hi <script>alert(1)</script><b>there</b></p>", "notes": "# md", "summary": "s",
		"price": 9.5, "stock": 3, "day": "2026-11-27", "at": "2026-11-27T10:00:00Z", "contact": "a@b.co", "link": "https://example.com",
		"color": "#A0B0C0", "kind": "news", "tags": ["a", "c"], "handle": "hello-world", "author": "` + author + `",
		"sku": "ABC-1", "points": [1, 2], "address": {"city": "Oslo"}, "extra": {"any": [1, "x"]}}}`
	it := e.create(t, e.admin, good)
	data := it["data"].(map[string]any)
	if strings.Contains(data["body"].(string), "script") || !strings.Contains(data["body"].(string), "<b>there</b>") {
		t.Fatalf("rich text not sanitised: %q", data["body"])
	}
	if data["featured"] != false || it["slug"] != "hello" || it["status"] != "draft" {
		t.Fatalf("defaults: %v", it)
	}
	for _, c := range []struct{ field, value string }{
		{"price", `-1`}, {"price", `"cheap"`}, {"stock", `1.5`}, {"stock", `2000`}, {"featured", `"yes"`},
		{"day", `"27/11/2026"`}, {"at", `"yesterday"`}, {"contact", `"not an email"`}, {"link", `"javascript:alert(1)"`},
		{"color", `"red"`}, {"kind", `"opinion"`}, {"tags", `["a", "z"]`}, {"handle", `"Not A Slug"`},
		{"author", `"nobody"`}, {"cover", `"no-such-media"`}, {"sku", `"abc"`}, {"points", `[1, 2, 3, 4]`},
		{"points", `["x"]`}, {"address", `{}`}, {"summary", `"` + strings.Repeat("x", 501) + `"`}, {"nope", `1`},
	} {
		body := fmt.Sprintf(`{"title": "Bad %s", "data": {%q: %s}}`, c.field, c.field, c.value)
		res := e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", e.admin, body)
		fields, _ := res.Raw["error"].(map[string]any)["fields"].(map[string]any)
		if res.Status != 400 || res.Error.Code != "validation_failed" || len(fields) == 0 {
			t.Errorf("%s = %s: %d %v", c.field, c.value, res.Status, res.Raw)
		}
	}
	// Every bad field is named at once; required fields too.
	res := e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", e.admin, `{"data": {"price": -1, "stock": "x"}}`)
	fields := res.Raw["error"].(map[string]any)["fields"].(map[string]any)
	if res.Status != 400 || fields["title"] == nil || fields["price"] == nil || fields["stock"] == nil {
		t.Fatalf("all fields named: %v", res.Raw)
	}
	// Unique fields and slugs.
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", e.admin, `{"title": "Other", "data": {"sku": "ABC-1"}}`), 400, "validation_failed")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", e.admin, `{"title": "Other", "slug": "hello"}`), 409, "slug_taken")
	if second := e.create(t, e.admin, `{"title": "Hello"}`); second["slug"] != "hello-2" {
		t.Fatalf("generated slug: %v", second["slug"])
	}
}

func TestContent_Workflow(t *testing.T) {
	e := newCMS(t, api.Config{})
	it := e.create(t, e.author, `{"title": "Draft by author"}`)
	id := it["id"].(string)
	move := func(token, to string) apitest.Response {
		return e.Call(t, "tenant-a", "POST", "/api/content/"+id+"/transition", token, `{"to": "`+to+`", "comment": "c"}`)
	}
	// Anonymous readers see nothing until it is published.
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/content/"+id, "", ""), 404, "content_not_found")
	apitest.WantStatus(t, move(e.viewer, "review"), 403, "permission_denied")
	apitest.WantStatus(t, move(e.author, "published"), 403, "permission_denied") // authors cannot publish
	apitest.WantStatus(t, move(e.author, "review"), 200, "")
	apitest.WantStatus(t, move(e.author, "archived"), 403, "permission_denied")
	apitest.WantStatus(t, move(e.editor, "published"), 200, "")
	apitest.WantStatus(t, move(e.editor, "review"), 409, "invalid_transition")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/content/"+id, "", ""), 200, "")
	apitest.WantStatus(t, move(e.editor, "archived"), 200, "")
	apitest.WantStatus(t, move(e.editor, "published"), 409, "invalid_transition")
	apitest.WantStatus(t, move(e.editor, "draft"), 200, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/content/"+id, "", ""), 404, "content_not_found")
	hist := e.Call(t, "tenant-a", "GET", "/api/content/"+id+"/history", e.editor, "").Raw["data"].([]any)
	if len(hist) != 4 || hist[0].(map[string]any)["to_status"] != "review" || hist[0].(map[string]any)["comment"] != "c" {
		t.Fatalf("history: %v", hist)
	}
	// Authors edit only their own items.
	other := e.create(t, e.editor, `{"title": "Editor's"}`)["id"].(string)
	apitest.WantStatus(t, e.Call(t, "tenant-a", "PATCH", "/api/content/"+other, e.author, `{"title": "mine now"}`), 403, "permission_denied")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "DELETE", "/api/content/"+other, e.author, ""), 403, "permission_denied")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "PATCH", "/api/content/"+id, e.author, `{"title": "still mine"}`), 200, "")
	// Creating straight into published needs content.publish.
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", e.author, `{"title": "x", "status": "published"}`), 403, "permission_denied")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", e.editor, `{"title": "x", "status": "published"}`), 201, "")
}

func TestContent_VersionsAndTrash(t *testing.T) {
	e := newCMS(t, api.Config{})
	id := e.create(t, e.editor, `{"title": "One", "data": {"price": 1}}`)["id"].(string)
	apitest.WantStatus(t, e.Call(t, "tenant-a", "PUT", "/api/content/"+id, e.editor, `{"title": "Two", "data": {"price": 2}}`), 200, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "PATCH", "/api/content/"+id, e.editor, `{"data": {"stock": 5}}`), 200, "")
	vs := e.Call(t, "tenant-a", "GET", "/api/content/"+id+"/versions", e.editor, "").Raw["data"].([]any)
	if len(vs) != 3 || vs[0].(map[string]any)["version"] != float64(3) {
		t.Fatalf("versions: %v", vs)
	}
	diff := e.Call(t, "tenant-a", "GET", "/api/content/"+id+"/diff?from=1&to=3", e.editor, "").Raw["data"].([]any)
	got := fmt.Sprint(diff)
	if !strings.Contains(got, "data.price") || !strings.Contains(got, "data.stock") || !strings.Contains(got, "title") {
		t.Fatalf("diff: %v", diff)
	}
	res := e.Call(t, "tenant-a", "POST", "/api/content/"+id+"/versions/1/restore", e.editor, "")
	apitest.WantStatus(t, res, 200, "")
	if res.Data["title"] != "One" || res.Data["version"] != float64(4) {
		t.Fatalf("restored: %v", res.Data)
	}
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/content/"+id+"/versions/9", e.editor, ""), 404, "version_not_found")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/content/"+id+"/versions", e.viewer, ""), 403, "permission_denied")

	// Trash, restore, purge.
	apitest.WantStatus(t, e.Call(t, "tenant-a", "DELETE", "/api/content/"+id, e.editor, ""), 204, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/content/"+id, e.editor, ""), 404, "content_not_found")
	trash := e.Call(t, "tenant-a", "GET", "/api/trash", e.editor, "").Raw["data"].([]any)
	if len(trash) != 1 {
		t.Fatalf("trash: %v", trash)
	}
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/trash/"+id+"/restore", e.editor, ""), 200, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/content/"+id, e.editor, ""), 200, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "DELETE", "/api/trash/"+id, e.editor, ""), 404, "content_not_found") // not in the trash
	apitest.WantStatus(t, e.Call(t, "tenant-a", "DELETE", "/api/content/"+id, e.editor, ""), 204, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "DELETE", "/api/trash/"+id, e.editor, ""), 204, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/trash/"+id+"/restore", e.editor, ""), 404, "content_not_found")
}

func TestContent_SchemaChange(t *testing.T) {
	e := newCMS(t, api.Config{})
	bad := e.create(t, e.admin, `{"title": "No price"}`)["id"].(string)
	e.create(t, e.admin, `{"title": "Priced", "data": {"price": 5}}`)
	res := e.Call(t, "tenant-a", "PUT", "/api/collections/posts", e.admin,
		`{"schema": {"type": "object", "properties": {"title": {"type": "string"}, "price": {"type": "number", "required": true}}}}`)
	apitest.WantStatus(t, res, 409, "schema_conflict")
	if fields := res.Raw["error"].(map[string]any)["fields"].(map[string]any); fields[bad+".price"] == nil {
		t.Fatalf("conflicts: %v", fields)
	}
	apitest.WantStatus(t, e.Call(t, "tenant-a", "PUT", "/api/collections/posts", e.admin,
		`{"schema": {"type": "object", "properties": {"title": {"type": "string"}, "price": {"type": "number"}}}}`), 409, "schema_conflict") // other fields in use
}

func TestContent_QueryAndCursor(t *testing.T) {
	e := newCMS(t, api.Config{})
	for i := range 30 {
		status := "published"
		if i%3 == 0 {
			status = "draft"
		}
		e.create(t, e.editor, fmt.Sprintf(`{"title": "Item %02d", "status": %q, "data": {"price": %d, "kind": %q}}`, i, status, i, []string{"news", "review"}[i%2]))
	}
	list := func(token, query string) apitest.Response {
		res := e.Call(t, "tenant-a", "GET", "/api/collections/posts/content?"+query, token, "")
		apitest.WantStatus(t, res, 200, "")
		return res
	}
	res := list("", `where={"and":[{"field":"data.price","operator":"greater_than_equal","value":10}]}&sort=-data.price&limit=5`)
	items := res.Raw["data"].([]any)
	if len(items) != 5 || res.Raw["meta"].(map[string]any)["total"] != float64(14) || items[0].(map[string]any)["data"].(map[string]any)["price"] != float64(29) {
		t.Fatalf("anonymous filtered list: %v", res.Raw["meta"])
	}
	if list(e.editor, "").Raw["meta"].(map[string]any)["total"] != float64(30) || list("", "").Raw["meta"].(map[string]any)["total"] != float64(20) {
		t.Fatal("drafts visible to the wrong readers")
	}
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", `/api/collections/posts/content?where={"and":[{"field":"data.nope","operator":"equals","value":1}]}`, "", ""), 400, "invalid_query")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", `/api/collections/posts/content?where={"and":[{"field":"data.price","operator":"drop%20table","value":1}]}`, "", ""), 400, "invalid_query")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/collections/posts/content?limit=1001", "", ""), 400, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/collections/posts/content?status=draft", "", ""), 403, "permission_denied")

	// Cursor paging sees every item once, while items are being added.
	seen := map[string]bool{}
	cursor := ""
	var wg sync.WaitGroup
	for page := 0; ; page++ {
		q := "sort=created_at&limit=7"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		res := list(e.editor, q)
		for _, it := range res.Raw["data"].([]any) {
			id := it.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("page %d repeats %s", page, id)
			}
			seen[id] = true
		}
		if page == 1 {
			wg.Go(func() { e.create(t, e.editor, `{"title": "Late"}`) })
		}
		next, _ := res.Raw["meta"].(map[string]any)["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	wg.Wait()
	if len(seen) < 30 {
		t.Fatalf("saw %d of the 30 items", len(seen))
	}
	// Remembered totals follow writes.
	if total := list(e.editor, "").Raw["meta"].(map[string]any)["total"]; total != float64(31) {
		t.Fatalf("total after a create: %v", total)
	}
}

func TestContent_Search(t *testing.T) {
	e := newCMS(t, api.Config{})
	e.create(t, e.editor, `{"title": "Sourdough bread", "status": "published", "data": {"body": "<p>flour water salt</p>"}}`)
	e.create(t, e.editor, `{"title": "Pasta", "status": "published", "data": {"body": "<p>a little sourdough starter</p>"}}`)
	e.create(t, e.editor, `{"title": "Sourdough secrets", "data": {"body": "draft"}}`)
	res := e.Call(t, "tenant-a", "GET", "/api/search?q=sourdough", "", "")
	apitest.WantStatus(t, res, 200, "")
	hits := res.Raw["data"].([]any)
	if len(hits) != 2 || hits[0].(map[string]any)["title"] != "Sourdough bread" || !strings.Contains(fmt.Sprint(hits[0]), "<mark>") {
		t.Fatalf("anonymous search, title first: %v", hits)
	}
	if hits := e.Call(t, "tenant-a", "GET", "/api/search?q=sourd", e.editor, "").Raw["data"].([]any); len(hits) != 3 {
		t.Fatalf("editor prefix search sees drafts: %v", hits)
	}
	for _, q := range []string{`"unbalanced`, `NEAR(a b)`, `a OR`, `*`, `content_fts MATCH 1; DROP TABLE content`} {
		if res := e.Call(t, "tenant-a", "GET", "/api/search?q="+strings.ReplaceAll(q, " ", "+"), "", ""); res.Status >= 500 {
			t.Errorf("q=%s: %d", q, res.Status)
		}
	}
	if hits := e.Call(t, "tenant-b", "GET", "/api/search?q=sourdough", "", "").Raw["data"].([]any); len(hits) != 0 {
		t.Fatalf("tenant B finds A's content: %v", hits)
	}
}

// TestContent_SearchCache: an anonymous search is answered from the
// answer cache until the tenant's next write, which the next search sees;
// a signed-in search is never kept.
func TestContent_SearchCache(t *testing.T) {
	e := newCMS(t, api.Config{})
	e.create(t, e.editor, `{"title": "Sourdough bread", "status": "published"}`)
	first := e.Call(t, "tenant-a", "GET", "/api/search?q=sourdough", "", "")
	apitest.WantStatus(t, first, 200, "")
	again := e.Call(t, "tenant-a", "GET", "/api/search?q=sourdough", "", "")
	if again.Header.Get("X-Cache") != "hit" || again.Header.Get("ETag") != first.Header.Get("ETag") || len(again.Raw["data"].([]any)) != 1 {
		t.Fatalf("second anonymous search not from the cache: %v %v", again.Header, again.Raw)
	}
	e.create(t, e.editor, `{"title": "Sourdough starter", "status": "published"}`)
	after := e.Call(t, "tenant-a", "GET", "/api/search?q=sourdough", "", "")
	if after.Header.Get("X-Cache") == "hit" || len(after.Raw["data"].([]any)) != 2 {
		t.Fatalf("a write left the cached search: %v %v", after.Header, after.Raw)
	}
	for range 2 {
		if res := e.Call(t, "tenant-a", "GET", "/api/search?q=sourdough", e.editor, ""); res.Header.Get("X-Cache") == "hit" {
			t.Fatalf("a signed-in search came from the cache: %v", res.Header)
		}
	}
	if b := e.Call(t, "tenant-b", "GET", "/api/search?q=sourdough", "", ""); b.Header.Get("X-Cache") == "hit" || len(b.Raw["data"].([]any)) != 0 {
		t.Fatalf("tenant B got A's cached search: %v %v", b.Header, b.Raw)
	}
}

// TestContent_Cache proves the cache is per tenant: a write to A drops
// A's cached answers and leaves B's.
func TestContent_Cache(t *testing.T) {
	e := newCMS(t, api.Config{})
	id := e.create(t, e.editor, `{"title": "Cached", "status": "published"}`)["id"].(string)
	bAdmin := e.AdminToken(t, "tenant-b")
	apitest.WantStatus(t, e.Call(t, "tenant-b", "POST", "/api/collections", bAdmin, `{"name": "notes", "public": true}`), 201, "")
	bid := e.Call(t, "tenant-b", "POST", "/api/collections/notes/content", bAdmin, `{"title": "B's", "status": "published"}`).Data["id"].(string)

	first := e.Call(t, "tenant-a", "GET", "/api/content/"+id, "", "")
	etag := first.Header.Get("ETag")
	if etag == "" || first.Header.Get("X-Cache") != "" {
		t.Fatalf("first read: %v", first.Header)
	}
	if again := e.Call(t, "tenant-a", "GET", "/api/content/"+id, "", ""); again.Header.Get("X-Cache") != "hit" || again.Header.Get("ETag") != etag {
		t.Fatalf("second read not from the cache: %v", again.Header)
	}
	if res := e.Call(t, "tenant-a", "GET", "/api/content/"+id, "", "", "If-None-Match", etag); res.Status != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", res.Status)
	}
	e.Call(t, "tenant-b", "GET", "/api/content/"+bid, "", "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "PATCH", "/api/content/"+id, e.editor, `{"title": "Changed"}`), 200, "")
	after := e.Call(t, "tenant-a", "GET", "/api/content/"+id, "", "")
	if after.Header.Get("X-Cache") == "hit" || after.Data["title"] != "Changed" || after.Header.Get("ETag") == etag {
		t.Fatalf("A's cache survived A's write: %v %v", after.Header, after.Data)
	}
	if b := e.Call(t, "tenant-b", "GET", "/api/content/"+bid, "", ""); b.Header.Get("X-Cache") != "hit" {
		t.Fatalf("B's cache did not survive A's write: %v", b.Header)
	}
	// A's content is not B's: same id on B's host is not found.
	apitest.WantStatus(t, e.Call(t, "tenant-b", "GET", "/api/content/"+id, "", ""), 404, "content_not_found")
	_ = auth.ContentRead
}

// TestContent_OpenAPI checks GET /api describes the routes and the
// collections the caller may see.
func TestContent_OpenAPI(t *testing.T) {
	e := newCMS(t, api.Config{})
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections", e.admin, `{"name": "private_notes"}`), 201, "")
	doc := e.Call(t, "tenant-a", "GET", "/api", "", "")
	apitest.WantStatus(t, doc, 200, "")
	paths := doc.Raw["paths"].(map[string]any)
	schemas := doc.Raw["components"].(map[string]any)["schemas"].(map[string]any)
	if doc.Raw["openapi"] != "3.0.3" || paths["/api/content/{id}"] == nil || paths["/api/collections/posts/content"] == nil || schemas["postsItem"] == nil {
		t.Fatalf("document: %v", doc.Raw["paths"])
	}
	for k := range paths {
		if strings.HasPrefix(k, "/platform") || strings.Contains(k, "private_notes") {
			t.Errorf("anonymous document lists %s", k)
		}
	}
	price := schemas["postsInput"].(map[string]any)["properties"].(map[string]any)["data"].(map[string]any)["properties"].(map[string]any)["price"]
	if price.(map[string]any)["type"] != "number" {
		t.Fatalf("price: %v", price)
	}
	if full := e.Call(t, "tenant-a", "GET", "/api", e.admin, "").Raw["paths"].(map[string]any); full["/api/collections/private_notes/content"] == nil {
		t.Fatal("an admin's document misses the private collection")
	}
}

// TestContent_ReviewedHoles pins down permission and cache rules a review
// found broken once.
func TestContent_ReviewedHoles(t *testing.T) {
	e := newCMS(t, api.Config{})
	soon := `"2030-01-01T00:00:00Z"`
	// Scheduling is publishing: authors may not set the dates.
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", e.author, `{"title": "sneaky", "publish_at": `+soon+`}`), 403, "permission_denied")
	own := e.create(t, e.author, `{"title": "mine"}`)["id"].(string)
	apitest.WantStatus(t, e.Call(t, "tenant-a", "PATCH", "/api/content/"+own, e.author, `{"publish_at": `+soon+`}`), 403, "permission_denied")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "PATCH", "/api/content/"+own, e.editor, `{"publish_at": `+soon+`}`), 200, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "PATCH", "/api/content/"+own, e.author, `{"title": "mine, renamed"}`), 200, "") // dates untouched

	// The trash keeps own-only rules.
	theirs := e.create(t, e.editor, `{"title": "editor's"}`)["id"].(string)
	apitest.WantStatus(t, e.Call(t, "tenant-a", "DELETE", "/api/content/"+theirs, e.editor, ""), 204, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "DELETE", "/api/trash/"+theirs, e.author, ""), 403, "permission_denied")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/trash/"+theirs+"/restore", e.author, ""), 403, "permission_denied")
	if trash := e.Call(t, "tenant-a", "GET", "/api/trash", e.author, "").Raw["data"].([]any); len(trash) != 0 {
		t.Fatalf("an author sees others' trash: %v", trash)
	}

	// include= does not reach into a private collection for anonymous readers.
	ann := e.Call(t, "tenant-a", "POST", "/api/collections/authors/content", e.admin, `{"title": "Secret Ann", "status": "published"}`).Data["id"].(string)
	e.create(t, e.editor, `{"title": "By Ann", "status": "published", "data": {"author": "`+ann+`"}}`)
	res := e.Call(t, "tenant-a", "GET", "/api/collections/posts/content?include=author", "", "")
	apitest.WantStatus(t, res, 200, "")
	if strings.Contains(fmt.Sprint(res.Raw), "Secret Ann") {
		t.Fatalf("include= leaked a private item: %v", res.Raw["data"])
	}

	// Read permissions are the ones the item needs.
	drafts := e.Call(t, "tenant-a", "POST", "/api/tokens", e.admin, `{"name": "d", "permissions": ["content.read_drafts"]}`).Data["token"].(string)
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/content/"+ann, drafts, ""), 403, "permission_denied")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/content/"+ann+"/versions", drafts, ""), 403, "permission_denied")
	schemaOnly := e.Call(t, "tenant-a", "POST", "/api/tokens", e.admin, `{"name": "s", "permissions": ["collections.read"]}`).Data["token"].(string)
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/collections/authors", schemaOnly, ""), 200, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/collections/authors/content", schemaOnly, ""), 403, "permission_denied")

	// A refused write leaves the cache alone.
	pub := e.create(t, e.editor, `{"title": "Cached", "status": "published"}`)["id"].(string)
	e.Call(t, "tenant-a", "GET", "/api/content/"+pub, "", "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", "", `{"title": "x"}`), 401, "missing_token")
	if res := e.Call(t, "tenant-a", "GET", "/api/content/"+pub, "", ""); res.Header.Get("X-Cache") != "hit" {
		t.Fatal("a refused anonymous write emptied the cache")
	}

	// Restoring from the trash cannot duplicate a unique value.
	a := e.create(t, e.editor, `{"title": "A", "data": {"sku": "ABC-9"}}`)["id"].(string)
	apitest.WantStatus(t, e.Call(t, "tenant-a", "DELETE", "/api/content/"+a, e.editor, ""), 204, "")
	e.create(t, e.editor, `{"title": "B", "data": {"sku": "ABC-9"}}`)
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/trash/"+a+"/restore", e.editor, ""), 409, "unique_taken")
}

package admin_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/condohq/condo/api/apitest"
)

// postsSchema has the field types the editor draws differently.
const postsSchema = `{"name": "posts", "display_name": "Posts", "schema": {"type": "object", "properties": {
	"title": {"type": "string", "required": true, "maxLength": 120},
	"price": {"type": "number", "minimum": 0},
	"body": {"type": "markdown"},
	"notes": {"type": "richtext"},
	"featured": {"type": "boolean"},
	"color": {"type": "select", "enum": ["red", "blue"]},
	"tags": {"type": "array", "items": {"type": "string"}},
	"when": {"type": "datetime"},
	"address": {"type": "object", "properties": {"city": {"type": "string", "required": true}}}}}}`

func mustPosts(t *testing.T, env *apitest.Env, tenant string) {
	t.Helper()
	if res := env.Call(t, tenant, "POST", "/api/collections", env.AdminToken(t, tenant), postsSchema); res.Status != http.StatusCreated {
		t.Fatalf("create posts: %d %v", res.Status, res.Raw)
	}
}

// itemOf reads an item through the API.
func itemOf(t *testing.T, env *apitest.Env, tenant, id string) map[string]any {
	t.Helper()
	res := env.Call(t, tenant, "GET", "/api/content/"+id, env.AdminToken(t, tenant), "")
	if res.Status != http.StatusOK {
		t.Fatalf("GET item %s: %d %v", id, res.Status, res.Raw)
	}
	return res.Data
}

func itemForm(title, price string) url.Values {
	return url.Values{"d.title": {title}, "d.price": {price}, "d.body": {"# Hi\n\nSome *markdown*."},
		"d.notes": {"<p>Rich <b>text</b></p>"}, "d.featured": {"true"}, "d.color": {"blue"}, "d.tags": {"a\nb"},
		"d.when": {"2026-12-31T09:30"}, "d.address.city": {"Lyon"}, "op": {"save"}}
}

func TestAdminContent_Editor(t *testing.T) {
	env := newEnv(t)
	mustPosts(t, env, "tenant-a")
	b := signedIn(t, env, "tenant-a")
	if p := b.get("/admin/content/posts/new"); p.Status != http.StatusOK || !strings.Contains(p.Body, `name="d.address.city"`) {
		t.Fatalf("new item page: %d %s", p.Status, p.Body)
	}

	t.Run("RequiredFieldMessage", func(t *testing.T) {
		p := b.post("/admin/content/posts/new", itemForm("", "5"))
		if p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest {
			t.Fatalf("got %d, want a refusal: %s", p.Status, p.Body)
		}
		for _, want := range []string{`id="err-in-title"`, `aria-describedby="hint-in-title err-in-title"`, `value="Lyon"`} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("the refused form lacks %s", want)
			}
		}
	})

	var id string
	t.Run("Create", func(t *testing.T) {
		p := b.post("/admin/content/posts/new", itemForm("Hello", "5"))
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/admin/content/") {
			t.Fatalf("create: %d %q %s", p.Status, p.Location, p.Body)
		}
		id = strings.TrimPrefix(p.Location, "/admin/content/")
		it := itemOf(t, env, "tenant-a", id)
		data := it["data"].(map[string]any)
		if it["status"] != "draft" || it["title"] != "Hello" || data["price"] != 5.0 || data["featured"] != true ||
			data["when"] != "2026-12-31T09:30:00.000Z" || data["address"].(map[string]any)["city"] != "Lyon" {
			t.Errorf("item = %v", it)
		}
		if tags, _ := data["tags"].([]any); len(tags) != 2 || tags[1] != "b" {
			t.Errorf("tags = %v", data["tags"])
		}
	})

	t.Run("EditorShowsItem", func(t *testing.T) {
		p := b.get("/admin/content/" + id)
		for _, want := range []string{`value="Hello"`, `value="2026-12-31T09:30"`, `<option value="blue" selected>`, `data-richtext`, `Save and publish</button>`} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("editor lacks %s", want)
			}
		}
	})

	t.Run("EditRefusedThenSaved", func(t *testing.T) {
		form := itemForm("Hello again", "-1")
		form.Set("version", "1")
		p := b.post("/admin/content/"+id, form)
		if p.Status < 400 || !strings.Contains(p.Body, `id="err-in-price"`) || !strings.Contains(p.Body, `value="Hello again"`) {
			t.Fatalf("negative price: %d %s", p.Status, p.Body)
		}
		form.Set("d.price", "7")
		form.Set("d.body", "# Hi\n\nSome *markdown*.\n\nA new paragraph.")
		if p := b.post("/admin/content/"+id, form); p.Status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", p.Status, p.Body)
		}
		it := itemOf(t, env, "tenant-a", id)
		if it["title"] != "Hello again" || it["data"].(map[string]any)["price"] != 7.0 || it["version"] != 2.0 {
			t.Errorf("after save: %v", it)
		}
		// The form of version 1, posted again, is a conflict.
		if p := b.post("/admin/content/"+id, form); p.Status != http.StatusConflict {
			t.Errorf("stale form: %d", p.Status)
		}
	})

	t.Run("Publish", func(t *testing.T) {
		form := itemForm("Hello again", "7")
		form.Set("version", "2")
		form.Set("op", "to:published")
		form.Set("comment", "Looks good")
		if p := b.post("/admin/content/"+id, form); p.Status != http.StatusSeeOther {
			t.Fatalf("publish: %d %s", p.Status, p.Body)
		}
		hist := env.Call(t, "tenant-a", "GET", "/api/content/"+id+"/history", env.AdminToken(t, "tenant-a"), "").Raw["data"].([]any)
		if last := hist[len(hist)-1].(map[string]any); last["to_status"] != "published" || last["comment"] != "Looks good" {
			t.Errorf("history = %v", hist)
		}
		if it := itemOf(t, env, "tenant-a", id); it["status"] != "published" {
			t.Errorf("status %v", it["status"])
		}
		if p := b.get("/admin/content/" + id); !strings.Contains(p.Body, "Unpublish</button>") {
			t.Errorf("a published item's editor offers no unpublish")
		}
	})

	t.Run("Schedule", func(t *testing.T) {
		it := itemOf(t, env, "tenant-a", id)
		form := itemForm("Hello again", "7")
		form.Set("version", strconv.Itoa(int(it["version"].(float64))))
		form.Set("unpublish_at", "2099-01-01T10:00")
		if p := b.post("/admin/content/"+id, form); p.Status != http.StatusSeeOther {
			t.Fatalf("schedule: %d %s", p.Status, p.Body)
		}
		if it := itemOf(t, env, "tenant-a", id); !strings.HasPrefix(it["unpublish_at"].(string), "2099-01-01T10:00") {
			t.Errorf("unpublish_at %v", it["unpublish_at"])
		}
		if p := b.get("/admin/content/" + id); !strings.Contains(p.Body, "unpublishes 2099-01-01 10:00 UTC") {
			t.Errorf("the editor does not say when the item unpublishes")
		}
	})

	t.Run("VersionsDiffRestore", func(t *testing.T) {
		p := b.get("/admin/content/" + id + "/versions")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "/versions/1/restore") {
			t.Fatalf("versions: %d %s", p.Status, p.Body)
		}
		if !strings.Contains(p.Body, "<h2>Workflow</h2>") || !strings.Contains(p.Body, "<td>you</td>") {
			t.Errorf("versions page lacks the workflow history or its author")
		}
		p = b.get("/admin/content/" + id + "/diff?from=1&to=2")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "Changed") || !strings.Contains(p.Body, "Hello again") {
			t.Fatalf("diff: %d %s", p.Status, p.Body)
		}
		if !strings.Contains(p.Body, `<span class="ins">&#43; A new paragraph.`) {
			t.Errorf("the body's new line is not marked in the diff: %s", p.Body)
		}
		if p := b.post("/admin/content/"+id+"/versions/1/restore", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("restore: %d %s", p.Status, p.Body)
		}
		it := itemOf(t, env, "tenant-a", id)
		if it["title"] != "Hello" || it["data"].(map[string]any)["price"] != 5.0 {
			t.Errorf("after restoring version 1: %v", it)
		}
	})

	t.Run("Duplicate", func(t *testing.T) {
		b.get("/admin/content/" + id)
		p := b.post("/admin/content/"+id+"/duplicate", url.Values{})
		if p.Status != http.StatusSeeOther || p.Location == "/admin/content/"+id {
			t.Fatalf("duplicate: %d %q", p.Status, p.Location)
		}
		cp := itemOf(t, env, "tenant-a", strings.TrimPrefix(p.Location, "/admin/content/"))
		if cp["title"] != "Copy of Hello" || cp["status"] != "draft" || cp["data"].(map[string]any)["price"] != 5.0 {
			t.Errorf("copy = %v", cp)
		}
	})

	t.Run("MarkdownPreview", func(t *testing.T) {
		b.get("/admin/content/" + id)
		p := b.post("/admin/content-preview", url.Values{"_name": {"d.body"}, "d.body": {"**hi** <script>alert(1)</script> [x](javascript:alert(1))"}})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "<strong>hi</strong>") || strings.Contains(p.Body, "<script") || strings.Contains(p.Body, "javascript:") {
			t.Errorf("preview: %d %s", p.Status, p.Body)
		}
	})

	t.Run("TrashRestorePurge", func(t *testing.T) {
		b.get("/admin/content/" + id)
		if p := b.post("/admin/content/"+id+"/delete", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d %s", p.Status, p.Body)
		}
		if res := env.Call(t, "tenant-a", "GET", "/api/content/"+id, env.AdminToken(t, "tenant-a"), ""); res.Status != http.StatusNotFound {
			t.Errorf("a trashed item reads %d", res.Status)
		}
		if p := b.get("/admin/trash"); !strings.Contains(p.Body, "/admin/trash/"+id+"/restore") {
			t.Fatalf("trash lacks the item: %s", p.Body)
		}
		if p := b.post("/admin/trash/"+id+"/restore", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("restore: %d", p.Status)
		}
		itemOf(t, env, "tenant-a", id)
		b.post("/admin/content/"+id+"/delete", url.Values{})
		if p := b.post("/admin/trash/"+id+"/purge", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("purge: %d", p.Status)
		}
		if p := b.get("/admin/trash"); strings.Contains(p.Body, id) {
			t.Errorf("purged item still in the trash")
		}
	})
}

func TestAdminContent_List(t *testing.T) {
	env := newEnv(t)
	mustPosts(t, env, "tenant-a")
	tok := env.AdminToken(t, "tenant-a")
	for _, it := range []string{
		`{"title": "Alpha apples", "status": "published", "data": {"price": 1, "address": {"city": "Paris"}}}`,
		`{"title": "Beta bananas", "data": {"price": 2, "address": {"city": "Lyon"}}}`,
		`{"title": "Gamma grapes", "data": {"price": 3, "address": {"city": "Nice"}}}`,
	} {
		if res := env.Call(t, "tenant-a", "POST", "/api/collections/posts/content", tok, it); res.Status != http.StatusCreated {
			t.Fatalf("create: %d %v", res.Status, res.Raw)
		}
	}
	b := signedIn(t, env, "tenant-a")
	for _, tc := range []struct {
		name, query string
		want, not   []string
	}{
		{"All", "", []string{"Alpha apples", "Beta bananas", "Gamma grapes", "Items 1–3 of 3"}, nil},
		{"Status", "?status=published", []string{"Alpha apples"}, []string{"Beta bananas"}},
		{"Field", "?field=data.price&op=greater_than&value=1.5", []string{"Beta bananas", "Gamma grapes"}, []string{"Alpha apples"}},
		{"Search", "?q=bananas", []string{"Beta bananas", "1 match"}, []string{"Gamma grapes"}},
		{"Page", "?limit=10&sort=title", []string{"Alpha apples"}, nil},
		{"SortDesc", "?sort=-title", []string{`aria-sort="descending"`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.get("/admin/content/posts" + tc.query)
			if p.Status != http.StatusOK {
				t.Fatalf("%d %s", p.Status, p.Body)
			}
			for _, w := range tc.want {
				if !strings.Contains(p.Body, w) {
					t.Errorf("lacks %q", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(p.Body, n) {
					t.Errorf("has %q", n)
				}
			}
		})
	}
	t.Run("SortOrder", func(t *testing.T) {
		p := b.get("/admin/content/posts?sort=-title")
		if a, g := strings.Index(p.Body, "Alpha apples"), strings.Index(p.Body, "Gamma grapes"); a < 0 || g < 0 || g > a {
			t.Errorf("sort=-title: Gamma at %d, Alpha at %d", g, a)
		}
	})
	t.Run("Pages", func(t *testing.T) {
		p := b.get("/admin/content/posts?limit=10&offset=2")
		if !strings.Contains(p.Body, "Items 3–3 of 3") || !strings.Contains(p.Body, "Previous page") {
			t.Errorf("second page: %s", p.Body)
		}
	})
	t.Run("Bulk", func(t *testing.T) {
		res := env.Call(t, "tenant-a", "GET", "/api/collections/posts/content?status=draft", tok, "")
		var ids []string
		for _, it := range res.Raw["data"].([]any) {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
		if len(ids) != 2 {
			t.Fatalf("drafts: %v", ids)
		}
		b.get("/admin/content/posts")
		p := b.post("/admin/content/posts/bulk", url.Values{"id": ids, "action": {"published"}, "query": {"status=draft"}})
		if p.Status != http.StatusSeeOther || p.Location != "/admin/content/posts?status=draft" {
			t.Fatalf("bulk: %d %q", p.Status, p.Location)
		}
		for _, id := range ids {
			if it := itemOf(t, env, "tenant-a", id); it["status"] != "published" {
				t.Errorf("%s is %v", id, it["status"])
			}
		}
		if p := b.get(p.Location); !strings.Contains(p.Body, "Publish: 2 items done.") {
			t.Errorf("no flash: %s", p.Body)
		}
		// Publishing again is refused by the workflow, and said so.
		b.post("/admin/content/posts/bulk", url.Values{"id": ids[:1], "action": {"published"}})
		if p := b.get("/admin/content/posts"); !strings.Contains(p.Body, "1 refused") {
			t.Errorf("no refusal in the flash")
		}
		// Back to drafts, for the other subtests.
		b.post("/admin/content/posts/bulk", url.Values{"id": ids, "action": {"draft"}})
	})
	t.Run("Overview", func(t *testing.T) {
		p := b.get("/admin/content?q=grapes")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "Gamma grapes") || !strings.Contains(p.Body, `href="/admin/content/posts"`) {
			t.Errorf("overview: %d %s", p.Status, p.Body)
		}
	})
}

// TestAdminContent_OtherTenant: tenant-b's session cannot open, change,
// restore or trash tenant-a's item through the pages.
func TestAdminContent_OtherTenant(t *testing.T) {
	env := newEnv(t)
	mustPosts(t, env, "tenant-a")
	res := env.Call(t, "tenant-a", "POST", "/api/collections/posts/content", env.AdminToken(t, "tenant-a"), `{"title": "Secret", "data": {"address": {"city": "Paris"}}}`)
	id := res.Data["id"].(string)
	mustPosts(t, env, "tenant-b")
	b := signedIn(t, env, "tenant-b")
	for _, path := range []string{"/admin/content/" + id, "/admin/content/" + id + "/versions", "/admin/content/" + id + "/diff?from=1&to=1"} {
		if p := b.get(path); p.Status != http.StatusNotFound || strings.Contains(p.Body, "Secret") {
			t.Errorf("GET %s: %d", path, p.Status)
		}
	}
	b.get("/admin/content")
	for _, path := range []string{"/admin/content/" + id, "/admin/content/" + id + "/delete", "/admin/content/" + id + "/versions/1/restore", "/admin/trash/" + id + "/purge"} {
		if p := b.post(path, itemForm("Taken", "1")); p.Status != http.StatusNotFound {
			t.Errorf("POST %s: %d", path, p.Status)
		}
	}
	if it := itemOf(t, env, "tenant-a", id); it["title"] != "Secret" || it["version"] != 1.0 {
		t.Errorf("tenant-a's item changed: %v", it)
	}
}

// TestAdminContent_Roles: the pages offer only what the role may do, and
// what the API refuses shows as its message.
func TestAdminContent_Roles(t *testing.T) {
	env := newEnv(t)
	mustPosts(t, env, "tenant-a")
	res := env.Call(t, "tenant-a", "POST", "/api/collections/posts/content", env.AdminToken(t, "tenant-a"),
		`{"title": "Public one", "status": "published", "data": {"address": {"city": "Paris"}}}`)
	id := res.Data["id"].(string)
	env.User(t, "tenant-a", "author@example.com", "author", "author password 1")
	env.User(t, "tenant-a", "viewer@example.com", "viewer", "viewer password 1")

	author := newBrowser(t, env, "tenant-a.localhost")
	author.signIn("/admin", "author@example.com", "author password 1")
	p := author.get("/admin/content/posts/new")
	if p.Status != http.StatusOK || strings.Contains(p.Body, `value="to:published"`) || !strings.Contains(p.Body, `value="to:review"`) {
		t.Errorf("author's new item: %d, want review and no publish", p.Status)
	}
	form := itemForm("Mine", "1")
	form.Set("op", "to:published") // not offered; the API refuses it anyway
	if p := author.post("/admin/content/posts/new", form); p.Status != http.StatusForbidden {
		t.Errorf("author publishing: %d", p.Status)
	}

	viewer := newBrowser(t, env, "tenant-a.localhost")
	viewer.signIn("/admin", "viewer@example.com", "viewer password 1")
	p = viewer.get("/admin/content/posts")
	if p.Status != http.StatusOK || strings.Contains(p.Body, "/admin/content/posts/new") || strings.Contains(p.Body, `<option value="draft"`) {
		t.Errorf("viewer's list: %d, want no New item and no draft filter", p.Status)
	}
	p = viewer.get("/admin/content/" + id)
	if p.Status != http.StatusOK || strings.Contains(p.Body, `value="save"`) || !strings.Contains(p.Body, `class="card editor-main" disabled`) {
		t.Errorf("viewer's editor: %d, want read only", p.Status)
	}
	form = itemForm("Changed", "1")
	form.Set("version", "1")
	if p := viewer.post("/admin/content/"+id, form); p.Status != http.StatusForbidden {
		t.Errorf("viewer's save: %d", p.Status)
	}
	if it := itemOf(t, env, "tenant-a", id); it["title"] != "Public one" {
		t.Errorf("a viewer changed the item: %v", it["title"])
	}
}

// TestAdminContent_ReferenceChoices: a reference input suggests the
// items of the collection it points to.
func TestAdminContent_ReferenceChoices(t *testing.T) {
	env := newEnv(t)
	tok := env.AdminToken(t, "tenant-a")
	env.Call(t, "tenant-a", "POST", "/api/collections", tok, `{"name": "authors"}`)
	ada := env.Call(t, "tenant-a", "POST", "/api/collections/authors/content", tok, `{"title": "Ada Lovelace"}`).Data["id"].(string)
	env.Call(t, "tenant-a", "POST", "/api/collections", tok, `{"name": "books", "schema": {"type": "object", "properties": {
		"author": {"type": "reference", "collection": "authors"}}}}`)
	b := signedIn(t, env, "tenant-a")
	p := b.get("/admin/content/books/new")
	if !strings.Contains(p.Body, `<option value="`+ada+`">Ada Lovelace</option>`) || !strings.Contains(p.Body, `list="choices-c-authors-in-author"`) {
		t.Fatalf("no suggestion of the author: %s", p.Body)
	}
	p = b.post("/admin/content/books/new", url.Values{"title": {"Notes"}, "d.author": {ada}, "op": {"save"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("create with a reference: %d %s", p.Status, p.Body)
	}
	if p := b.get(p.Location); !strings.Contains(p.Body, `<p class="chosen"><span>Ada Lovelace</span></p>`) {
		t.Errorf("the editor does not name the referenced item: %s", p.Body)
	}
	if p := b.get("/admin/content/books"); !strings.Contains(p.Body, "<td>Ada Lovelace</td>") {
		t.Errorf("the list does not name the referenced item: %s", p.Body)
	}
	if p := b.post("/admin/content/books/new", url.Values{"title": {"Bad"}, "d.author": {"no-such-id"}, "op": {"save"}}); p.Status < 400 || !strings.Contains(p.Body, `id="err-in-author"`) {
		t.Errorf("a missing reference: %d", p.Status)
	}
}

// TestAdminContent_ListOfGroups: an array of objects is edited as one
// group of inputs per item, added and removed with buttons (no
// JavaScript), and the API's messages land in the right group.
func TestAdminContent_ListOfGroups(t *testing.T) {
	env := newEnv(t)
	tok := env.AdminToken(t, "tenant-a")
	env.Call(t, "tenant-a", "POST", "/api/collections", tok, `{"name": "pages", "schema": {"type": "object", "properties": {
		"title": {"type": "string"},
		"gallery": {"type": "array", "items": {"type": "object", "properties": {
			"caption": {"type": "string", "required": true}, "wide": {"type": "boolean"}}}}}}}`)
	b := signedIn(t, env, "tenant-a")
	b.get("/admin/content/pages/new")
	form := url.Values{"d.title": {"Home"}, "op": {"additem:d.gallery"}}
	p := b.post("/admin/content/pages/new", form)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `name="d.gallery.0.caption"`) || !strings.Contains(p.Body, `value="Home"`) {
		t.Fatalf("add an item: %d %s", p.Status, p.Body)
	}
	form = url.Values{"d.title": {"Home"}, "d.gallery.0._entry": {"1"}, "d.gallery.0.caption": {"First"},
		"d.gallery.1._entry": {"1"}, "d.gallery.1.caption": {""}, "d.gallery.1.wide": {"true"}, "op": {"save"}}
	p = b.post("/admin/content/pages/new", form)
	if p.Status < 400 || !strings.Contains(p.Body, `id="err-in-gallery[1]-caption"`) {
		t.Fatalf("the second item's caption is required: %d %s", p.Status, p.Body)
	}
	form.Set("op", "removeitem:d.gallery.1")
	if p := b.post("/admin/content/pages/new", form); strings.Contains(p.Body, `name="d.gallery.1.caption"`) {
		t.Errorf("the second item was not removed")
	}
	form.Del("d.gallery.1._entry")
	form.Del("d.gallery.1.caption")
	form.Del("d.gallery.1.wide")
	form.Set("op", "save")
	p = b.post("/admin/content/pages/new", form)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	it := itemOf(t, env, "tenant-a", strings.TrimPrefix(p.Location, "/admin/content/"))
	gallery, _ := it["data"].(map[string]any)["gallery"].([]any)
	if len(gallery) != 1 || gallery[0].(map[string]any)["caption"] != "First" || gallery[0].(map[string]any)["wide"] != false {
		t.Errorf("gallery = %v", gallery)
	}
}

// TestAdminContent_EveryType: the editor draws every field type and
// saves what each input posts as the type's JSON value.
func TestAdminContent_EveryType(t *testing.T) {
	env := newEnv(t)
	tok := env.AdminToken(t, "tenant-a")
	if res := env.Call(t, "tenant-a", "POST", "/api/collections", tok, `{"name": "all", "schema": {"type": "object", "properties": {
		"s": {"type": "string"}, "ta": {"type": "textarea"}, "rt": {"type": "richtext"}, "md": {"type": "markdown"},
		"n": {"type": "number"}, "i": {"type": "integer"}, "b": {"type": "boolean"}, "d": {"type": "date"},
		"dt": {"type": "datetime"}, "e": {"type": "email"}, "u": {"type": "url"}, "c": {"type": "color"},
		"sel": {"type": "select", "enum": ["a", "b"]}, "r": {"type": "radio", "enum": ["x", "y"]},
		"ms": {"type": "multiselect", "enum": ["p", "q", "r"]}, "sl": {"type": "slug"},
		"m": {"type": "media"}, "f": {"type": "file"}, "nums": {"type": "array", "items": {"type": "integer"}},
		"j": {"type": "json"}, "o": {"type": "object", "properties": {"k": {"type": "string"}}}}}}`); res.Status != http.StatusCreated {
		t.Fatalf("collection: %d %v", res.Status, res.Raw)
	}
	b := signedIn(t, env, "tenant-a")
	if p := b.get("/admin/content/all/new"); p.Status != http.StatusOK || !strings.Contains(p.Body, `type="radio"`) || !strings.Contains(p.Body, `name="d.ms" value="q"`) {
		t.Fatalf("new: %d %s", p.Status, p.Body)
	}
	form := url.Values{"title": {"Everything"}, "d.s": {"one"}, "d.ta": {"two\r\nlines"}, "d.rt": {"<p>hi</p>"}, "d.md": {"*md*"},
		"d.n": {"1.5"}, "d.i": {"42"}, "d.b": {"true"}, "d.d": {"2026-12-02"}, "d.dt": {"2026-12-02T08:00"},
		"d.e": {"a@example.com"}, "d.u": {"https://example.com/"}, "d.c": {"#AABBCC"}, "d.sel": {"b"}, "d.r": {"y"},
		"d.ms": {"p", "r"}, "d.sl": {"a-slug"}, "d.nums": {"1\n2\n3"}, "d.j": {`{"any": [1, true]}`}, "d.o.k": {"v"}, "op": {"save"}}
	p := b.post("/admin/content/all/new", form)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	id := strings.TrimPrefix(p.Location, "/admin/content/")
	data := itemOf(t, env, "tenant-a", id)["data"].(map[string]any)
	want := map[string]any{"s": "one", "ta": "two\nlines", "md": "*md*", "n": 1.5, "i": 42.0, "b": true, "d": "2026-12-02",
		"dt": "2026-12-02T08:00:00.000Z", "e": "a@example.com", "u": "https://example.com/", "c": "#aabbcc", "sel": "b", "r": "y", "sl": "a-slug"}
	for k, v := range want {
		if data[k] != v {
			t.Errorf("%s = %v, want %v", k, data[k], v)
		}
	}
	if ms, _ := data["ms"].([]any); len(ms) != 2 || ms[1] != "r" {
		t.Errorf("ms = %v", data["ms"])
	}
	if nums, _ := data["nums"].([]any); len(nums) != 3 || nums[2] != 3.0 {
		t.Errorf("nums = %v", data["nums"])
	}
	if j, _ := data["j"].(map[string]any); j == nil || len(j["any"].([]any)) != 2 {
		t.Errorf("j = %v", data["j"])
	}
	if o, _ := data["o"].(map[string]any); o["k"] != "v" {
		t.Errorf("o = %v", data["o"])
	}
	// The editor shows each value back.
	p = b.get("/admin/content/" + id)
	for _, w := range []string{`value="y" checked`, `name="d.ms" value="r" checked`, `value="2026-12-02T08:00"`, "1\n2\n3", `&#34;any&#34;`, `name="d.o.k" value="v"`, `value="#aabbcc"`} {
		if !strings.Contains(p.Body, w) {
			t.Errorf("editor lacks %q", w)
		}
	}
	// A JSON field that does not parse is the admin's own refusal, beside it.
	form.Set("d.j", "{nope")
	if p := b.post("/admin/content/all/new", form); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="err-in-j"`) || !strings.Contains(p.Body, "{nope") {
		t.Errorf("bad JSON: %d", p.Status)
	}
}

package shipped_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/plans"
)

// The shipped plugins end to end: the server as serve builds it (the
// default runner is the shipped registry), over real HTTP.

type env struct {
	*apitest.Env
	admin string // tenant-a's admin
}

func newEnv(t *testing.T) *env {
	e := apitest.New(t, api.Config{})
	return &env{Env: e, admin: e.AdminToken(t, "tenant-a")}
}

func (e *env) call(t *testing.T, method, path, body string) apitest.Response {
	t.Helper()
	return e.Call(t, "tenant-a", method, path, e.admin, body)
}

func (e *env) must(t *testing.T, res apitest.Response, status int) map[string]any {
	t.Helper()
	apitest.WantStatus(t, res, status, "")
	return res.Data
}

func fields(res apitest.Response) map[string]any {
	e, _ := res.Raw["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	return f
}

func TestSEO(t *testing.T) {
	e := newEnv(t)
	e.must(t, e.call(t, "POST", "/api/collections", `{"name": "posts", "schema": {"type": "object", "properties": {
		"title": {"type": "string"}, "body": {"type": "richtext"},
		"meta_title": {"type": "string"}, "meta_description": {"type": "textarea"}}}}`), 201)
	e.must(t, e.call(t, "PUT", "/api/plugins/seo", `{"enabled": true, "settings": {"slug_max": 20, "description_max": 40}}`), 200)

	body := "<p>Condo serves <b>many</b> tenants from one binary, each in its own SQLite file.</p>"
	it := e.must(t, e.call(t, "POST", "/api/collections/posts/content", fmt.Sprintf(`{"title": "Hello from a very long title indeed", "data": {"body": %q}}`, body)), 201)
	data := it["data"].(map[string]any)
	if it["slug"] != "hello-from-a-very" {
		t.Errorf("slug = %v, want the title's, cut at a word within 20 characters", it["slug"])
	}
	if data["meta_title"] != "Hello from a very long title indeed" {
		t.Errorf("meta_title = %v", data["meta_title"])
	}
	if data["meta_description"] != "Condo serves many tenants from one" {
		t.Errorf("meta_description = %q", data["meta_description"])
	}
	// The same title again: numbered, still within the limit.
	again := e.must(t, e.call(t, "POST", "/api/collections/posts/content", `{"title": "Hello from a very long title indeed"}`), 201)
	if again["slug"] != "hello-from-a-very-2" {
		t.Errorf("second slug = %v", again["slug"])
	}
	// Given values are kept when valid.
	kept := e.must(t, e.call(t, "POST", "/api/collections/posts/content", `{"title": "Kept", "slug": "my-own", "data": {"meta_title": "Mine"}}`), 201)
	if kept["slug"] != "my-own" || kept["data"].(map[string]any)["meta_title"] != "Mine" {
		t.Errorf("kept: %v", kept)
	}

	for _, tc := range []struct{ name, body, field string }{
		{"slug format", `{"title": "x", "slug": "Not A Slug"}`, "slug"},
		{"slug too long", `{"title": "x", "slug": "a-slug-longer-than-twenty"}`, "slug"},
		{"slug taken", `{"title": "x", "slug": "my-own"}`, "slug"},
		{"meta title too long", `{"title": "x", "data": {"meta_title": "` + strings.Repeat("m", 61) + `"}}`, "meta_title"},
		{"meta description too long", `{"title": "x", "data": {"meta_description": "` + strings.Repeat("d", 41) + `"}}`, "meta_description"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.call(t, "POST", "/api/collections/posts/content", tc.body)
			apitest.WantStatus(t, res, 400, "validation_failed")
			if fields(res)[tc.field] == nil {
				t.Errorf("no error for %s: %v", tc.field, res.Raw)
			}
		})
	}
	list := e.call(t, "GET", "/api/collections/posts/content", "")
	if n := len(list.Raw["data"].([]any)); n != 3 {
		t.Errorf("%d items, want the 3 accepted", n)
	}
	// An edit to a slug another item has is refused too.
	res := e.call(t, "PATCH", "/api/content/"+kept["id"].(string), `{"slug": "hello-from-a-very"}`)
	apitest.WantStatus(t, res, 400, "validation_failed")
}

func TestReadingTime(t *testing.T) {
	e := newEnv(t)
	e.must(t, e.call(t, "POST", "/api/collections", `{"name": "articles", "schema": {"type": "object", "properties": {
		"body": {"type": "markdown"}, "word_count": {"type": "integer"}, "reading_time": {"type": "integer"}}}}`), 201)
	e.must(t, e.call(t, "PUT", "/api/plugins/reading-time", `{"enabled": true, "settings": {"words_per_minute": 100}}`), 200)

	body := strings.Repeat("word ", 250) + "— # end"
	it := e.must(t, e.call(t, "POST", "/api/collections/articles/content", fmt.Sprintf(`{"title": "Long", "data": {"body": %q, "word_count": 1}}`, body)), 201)
	data := it["data"].(map[string]any)
	if data["word_count"] != float64(251) || data["reading_time"] != float64(3) {
		t.Errorf("word_count %v reading_time %v, want 251 and 3 (computed, the client's value overwritten)", data["word_count"], data["reading_time"])
	}
	edited := e.must(t, e.call(t, "PATCH", "/api/content/"+it["id"].(string), `{"data": {"body": "two words"}}`), 200)
	if d := edited["data"].(map[string]any); d["word_count"] != float64(2) || d["reading_time"] != float64(1) {
		t.Errorf("after an edit: %v", d)
	}
	// A collection that does not declare the fields is left alone.
	e.must(t, e.call(t, "POST", "/api/collections", `{"name": "plain", "schema": {"type": "object", "properties": {"body": {"type": "string"}}}}`), 201)
	e.must(t, e.call(t, "POST", "/api/collections/plain/content", `{"title": "p", "data": {"body": "a b c"}}`), 201)
}

func TestForms(t *testing.T) {
	e := newEnv(t)
	e.must(t, e.call(t, "POST", "/api/collections", `{"name": "messages", "public": true, "schema": {"type": "object", "properties": {
		"name": {"type": "string", "required": true, "maxLength": 100}, "email": {"type": "email", "required": true},
		"message": {"type": "textarea", "maxLength": 2000}}}}`), 201)
	e.must(t, e.call(t, "PUT", "/api/plugins/forms", `{"enabled": true, "settings": {"forms": [
		{"name": "contact", "collection": "messages"}, {"name": "broken", "collection": "missing"}]}}`), 200)

	submit := func(tenant, form, contentType, body string) apitest.Response {
		t.Helper()
		return e.Call(t, tenant, "POST", "/api/plugins/forms/"+form, "", body, "Content-Type", contentType)
	}
	const js = "application/json"
	res := submit("tenant-a", "contact", js, `{"name": "Ada", "email": "ada@example.com", "message": "hello", "website": ""}`)
	apitest.WantStatus(t, res, 202, "")
	if len(res.Data) != 1 || res.Data["received"] != true {
		t.Errorf("the answer says more than received: %v", res.Raw)
	}
	form := url.Values{"name": {"Bob"}, "email": {"bob@example.com"}, "message": {"from an HTML form"}}
	apitest.WantStatus(t, submit("tenant-a", "contact", "application/x-www-form-urlencoded", form.Encode()), 202, "")
	// A bot fills the honeypot: answered alike, stored nowhere.
	apitest.WantStatus(t, submit("tenant-a", "contact", js, `{"name": "Spam", "email": "spam@example.com", "website": "http://spam.example"}`), 202, "")

	for _, tc := range []struct {
		name, tenant, form, body string
		status                   int
		code                     string
	}{
		{"invalid field", "tenant-a", "contact", `{"name": "Eve", "email": "not an address"}`, 400, "validation_failed"},
		{"unknown field", "tenant-a", "contact", `{"name": "Eve", "email": "eve@example.com", "admin": true}`, 400, "validation_failed"},
		{"not JSON", "tenant-a", "contact", `{"name":`, 400, "invalid_body"},
		{"too large", "tenant-a", "contact", `{"message": "` + strings.Repeat("x", 70<<10) + `"}`, 400, "body_too_large"},
		{"unknown form", "tenant-a", "nope", `{}`, 404, "form_not_found"},
		{"form of a missing collection", "tenant-a", "broken", `{}`, 404, "form_not_found"},
		{"tenant without the plugin", "tenant-b", "contact", `{"name": "Ada", "email": "ada@example.com"}`, 404, "plugin_not_enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apitest.WantStatus(t, submit(tc.tenant, tc.form, js, tc.body), tc.status, tc.code)
		})
	}

	// Stored as drafts: the admin sees two; anonymous callers see none,
	// though the collection is public.
	list := e.call(t, "GET", "/api/collections/messages/content", "")
	items := list.Raw["data"].([]any)
	if len(items) != 2 {
		t.Fatalf("%d submissions stored, want 2: %v", len(items), list.Raw)
	}
	for _, it := range items {
		it := it.(map[string]any)
		if it["status"] != "draft" || it["data"].(map[string]any)["website"] != nil {
			t.Errorf("stored: %v", it)
		}
	}
	anon := e.Call(t, "tenant-a", "GET", "/api/collections/messages/content", "", "")
	apitest.WantStatus(t, anon, 200, "")
	if n := len(anon.Raw["data"].([]any)); n != 0 {
		t.Errorf("anonymous callers read %d submissions", n)
	}
	if res := e.Call(t, "tenant-a", "GET", "/api/plugins/forms/contact", "", ""); res.Status < 400 {
		t.Errorf("anonymous GET of a form: %d %v", res.Status, res.Raw)
	}
}

// The plan decides which plugins a tenant may enable (api.PluginGate),
// and a plan change stops a plugin its new plan leaves out at once.
func TestShipped_PlanGate(t *testing.T) {
	ps, err := plans.Parse([]byte("plans:\n  free:\n    plugins: [seo]\n  starter:\n    plugins: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	ae := apitest.NewWithPlans(t, api.Config{}, hrana.Config{}, ps)
	e := &env{Env: ae, admin: ae.AdminToken(t, "tenant-a")}
	e.must(t, e.call(t, "POST", "/api/collections", `{"name": "posts", "schema": {"type": "object", "properties": {"title": {"type": "string"}}}}`), 201)
	apitest.WantStatus(t, e.call(t, "PUT", "/api/plugins/forms", `{"enabled": true}`), 403, "forbidden")
	e.must(t, e.call(t, "PUT", "/api/plugins/seo", `{"enabled": true}`), 200)
	if it := e.must(t, e.call(t, "POST", "/api/collections/posts/content", `{"title": "Plans decide"}`), 201); it["slug"] != "plans-decide" {
		t.Fatalf("slug = %v, want the SEO plugin's", it["slug"])
	}

	platform := apitest.Do(t, e.Srv, "POST", "localhost", "/platform/auth/login",
		strings.NewReader(`{"email": "`+apitest.AdminEmail+`", "password": "`+apitest.AdminPassword+`"}`)).Raw["token"].(string)
	res := e.Call(t, "localhost", "PATCH", "/platform/tenants/tenant-a", platform, `{"plan": "starter"}`)
	apitest.WantStatus(t, res, 200, "")
	if it := e.must(t, e.call(t, "POST", "/api/collections/posts/content", `{"title": "No plugins now", "slug": "kept"}`), 201); it["slug"] != "kept" {
		t.Fatalf("slug = %v after the downgrade, want the caller's (the plugin no longer runs)", it["slug"])
	}
}

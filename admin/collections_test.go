package admin_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/condohq/condo/api/apitest"
)

// schemaOf reads a collection's schema through the API.
func schemaOf(t *testing.T, env *apitest.Env, tenant, name string) map[string]any {
	t.Helper()
	res := env.Call(t, tenant, "GET", "/api/collections/"+name, env.AdminToken(t, tenant), "")
	if res.Status != http.StatusOK {
		t.Fatalf("GET collection %s: %d %v", name, res.Status, res.Raw)
	}
	s, _ := res.Data["schema"].(map[string]any)
	return s
}

func prop(s map[string]any, path ...string) map[string]any {
	for _, p := range path {
		props, _ := s["properties"].(map[string]any)
		s, _ = props[p].(map[string]any)
	}
	return s
}

// collectionForm is the create form of a collection with five fields:
// a required string, a number with a minimum, markdown, a list of
// strings and a group with a required city.
func collectionForm() url.Values {
	return url.Values{
		"name": {"posts"}, "display_name": {"Posts"}, "public": {"1"},
		"f.0.name": {"title"}, "f.0.type": {"string"}, "f.0.required": {"1"}, "f.0.max": {"120"},
		"f.1.name": {"price"}, "f.1.type": {"number"}, "f.1.min": {"0"},
		"f.2.name": {"body"}, "f.2.type": {"markdown"},
		"f.3.name": {"tags"}, "f.3.type": {"array"}, "f.3.items.type": {"string"},
		"f.4.name": {"address"}, "f.4.type": {"object"},
		"f.4.p.0.name": {"city"}, "f.4.p.0.type": {"string"}, "f.4.p.0.required": {"1"},
		"op": {"save"},
	}
}

func TestAdminCollections_CreateThroughForm(t *testing.T) {
	env := newEnv(t)
	b := signedIn(t, env, "tenant-a")
	if p := b.get("/admin/collections/new"); p.Status != http.StatusOK {
		t.Fatalf("new: %d %s", p.Status, p.Body)
	}

	t.Run("AddFieldKeepsRows", func(t *testing.T) {
		form := collectionForm()
		form.Set("op", "add")
		p := b.post("/admin/collections/new", form)
		if p.Status != http.StatusOK {
			t.Fatalf("add: %d %s", p.Status, p.Body)
		}
		for _, want := range []string{`name="f.0.name" value="title"`, `name="f.4.p.0.name" value="city"`, `name="f.5.name" value=""`} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("the re-rendered form lacks %s", want)
			}
		}
		form.Set("op", "add:f.4")
		if p := b.post("/admin/collections/new", form); !strings.Contains(p.Body, `name="f.4.p.1.name"`) {
			t.Errorf("add:f.4 gave no second property: %d", p.Status)
		}
		// Without JavaScript, a type just chosen shows its settings after
		// "refresh".
		if !nestedHidden(b.post("/admin/collections/new", form).Body, "f.2") {
			t.Errorf("a markdown row shows a group's fields")
		}
		form.Set("f.2.type", "object")
		form.Set("op", "refresh")
		if p := b.post("/admin/collections/new", form); nestedHidden(p.Body, "f.2") {
			t.Errorf("refresh did not show the group's fields")
		}
		form.Set("f.2.type", "markdown")
		form.Set("op", "remove:f.2")
		p = b.post("/admin/collections/new", form)
		if strings.Contains(p.Body, `value="body"`) || !strings.Contains(p.Body, `name="f.2.name" value="tags"`) {
			t.Errorf("remove:f.2 did not remove body and renumber the rows")
		}
	})

	t.Run("LocalError", func(t *testing.T) {
		form := collectionForm()
		form.Set("f.1.min", "zero")
		p := b.post("/admin/collections/new", form)
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "minimum must be a number") {
			t.Fatalf("got %d, want 422 with the row's message: %s", p.Status, p.Body)
		}
	})

	t.Run("APIError", func(t *testing.T) {
		form := collectionForm()
		form.Set("f.1.type", "reference") // a reference names its collection
		p := b.post("/admin/collections/new", form)
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="err-f.1"`) || !strings.Contains(p.Body, "collection is missing") {
			t.Fatalf("got %d, want 400 with the API's message beside the row: %s", p.Status, p.Body)
		}
	})

	t.Run("BadName", func(t *testing.T) {
		form := collectionForm()
		form.Set("name", "Bad Name")
		p := b.post("/admin/collections/new", form)
		if p.Status < 400 || !strings.Contains(p.Body, `id="err-name"`) || !strings.Contains(p.Body, `value="price"`) {
			t.Fatalf("a bad name: %d, want its message beside the name and the rows kept: %s", p.Status, p.Body)
		}
	})

	t.Run("Create", func(t *testing.T) {
		p := b.post("/admin/collections/new", collectionForm())
		if p.Status != http.StatusSeeOther || p.Location != "/admin/collections/posts" {
			t.Fatalf("create: %d %q %s", p.Status, p.Location, p.Body)
		}
		s := schemaOf(t, env, "tenant-a", "posts")
		if got, want := strings.Join(fieldOrder(t, env, "tenant-a", "posts"), ","), "title,price,body,tags,address"; got != want {
			t.Errorf("fields %s, want %s", got, want)
		}
		if got := prop(s, "title")["maxLength"]; got != 120.0 {
			t.Errorf("title maxLength = %v", got)
		}
		if got := prop(s, "price")["minimum"]; got != 0.0 {
			t.Errorf("price minimum = %v", got)
		}
		if got := prop(s, "tags")["items"].(map[string]any)["type"]; got != "string" {
			t.Errorf("tags items = %v", got)
		}
		if got := prop(s, "address", "city")["type"]; got != "string" {
			t.Errorf("address.city = %v", got)
		}
		if req, _ := prop(s, "address")["required"].([]any); len(req) != 1 || req[0] != "city" {
			t.Errorf("address required = %v", prop(s, "address")["required"])
		}
		if req, _ := s["required"].([]any); len(req) != 1 || req[0] != "title" {
			t.Errorf("required = %v", s["required"])
		}
	})

	t.Run("EditRoundTrip", func(t *testing.T) {
		p := b.get("/admin/collections/posts")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `name="f.4.p.0.name" value="city"`) {
			t.Fatalf("edit page: %d %s", p.Status, p.Body)
		}
		// The form as the page shows it, with one more field.
		form := collectionForm()
		form.Del("name")
		form.Set("display_name", "Articles")
		form.Set("max_age", "600")
		form.Set("f.5.name", "color")
		form.Set("f.5.type", "select")
		form.Set("f.5.options", "red\nblue")
		if p := b.post("/admin/collections/posts", form); p.Status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", p.Status, p.Body)
		}
		res := env.Call(t, "tenant-a", "GET", "/api/collections/posts", env.AdminToken(t, "tenant-a"), "")
		if res.Data["display_name"] != "Articles" {
			t.Errorf("display name %v", res.Data["display_name"])
		}
		if cache, _ := res.Data["cache"].(map[string]any); cache["max_age"] != 600.0 {
			t.Errorf("cache = %v", res.Data["cache"])
		}
		if p := b.get("/admin/collections/posts"); !strings.Contains(p.Body, `name="max_age" value="600"`) {
			t.Errorf("the edit page does not show the cache policy")
		}
		s := res.Data["schema"].(map[string]any)
		if enum, _ := prop(s, "color")["enum"].([]any); len(enum) != 2 || enum[1] != "blue" {
			t.Errorf("color enum = %v", prop(s, "color")["enum"])
		}
	})

	t.Run("JSONSchema", func(t *testing.T) {
		if p := b.post("/admin/collections/posts/schema", url.Values{"schema_json": {"{nope"}}); p.Status != http.StatusUnprocessableEntity {
			t.Errorf("bad JSON: %d", p.Status)
		}
		raw := `{"type":"object","properties":{"title":{"type":"string","required":true},"price":{"type":"number"}}}`
		if p := b.post("/admin/collections/posts/schema", url.Values{"schema_json": {raw}}); p.Status != http.StatusSeeOther {
			t.Fatalf("JSON schema: %d %s", p.Status, p.Body)
		}
		if s := schemaOf(t, env, "tenant-a", "posts"); prop(s, "address") != nil || prop(s, "price")["type"] != "number" {
			t.Errorf("schema after the JSON form: %v", s)
		}
	})

	t.Run("List", func(t *testing.T) {
		p := b.get("/admin/collections")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `href="/admin/collections/posts"`) {
			t.Fatalf("list: %d %s", p.Status, p.Body)
		}
	})

	t.Run("OtherTenant", func(t *testing.T) {
		other := signedIn(t, env, "tenant-b")
		if p := other.get("/admin/collections/posts"); p.Status != http.StatusNotFound {
			t.Errorf("tenant-b sees tenant-a's collection: %d", p.Status)
		}
		other.get("/admin/collections")
		if p := other.post("/admin/collections/posts", collectionForm()); p.Status != http.StatusNotFound {
			t.Errorf("tenant-b changed tenant-a's collection: %d", p.Status)
		}
		if s := schemaOf(t, env, "tenant-a", "posts"); prop(s, "address") != nil {
			t.Errorf("tenant-a's schema changed")
		}
	})

	t.Run("Delete", func(t *testing.T) {
		b.get("/admin/collections/posts")
		if p := b.post("/admin/collections/posts/delete", url.Values{"confirm": {"wrong"}}); p.Status != http.StatusUnprocessableEntity {
			t.Errorf("delete without the name: %d", p.Status)
		}
		if p := b.post("/admin/collections/posts/delete", url.Values{"confirm": {"posts"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d %s", p.Status, p.Body)
		}
		if res := env.Call(t, "tenant-a", "GET", "/api/collections/posts", env.AdminToken(t, "tenant-a"), ""); res.Status != http.StatusNotFound {
			t.Errorf("after delete: %d", res.Status)
		}
	})
}

// fieldOrder lists a collection's top-level fields in the order the
// API answers them.
func fieldOrder(t *testing.T, env *apitest.Env, tenant, name string) []string {
	t.Helper()
	_, body := apitest.Send(t, env.Srv.URL, "GET", tenant+".localhost", "/api/collections/"+name, env.AdminToken(t, tenant))
	var out struct {
		Data struct {
			Schema struct {
				Properties json.RawMessage `json:"properties"`
			} `json:"schema"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(out.Data.Schema.Properties))
	dec.Token()
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	return keys
}

// nestedHidden reports whether the group block (an object's fields) of
// the row at prefix is rendered hidden.
func nestedHidden(body, prefix string) bool {
	i := strings.Index(body, `value="add:`+prefix+`"`)
	if i < 0 {
		return true
	}
	const open = `class="nested" data-types="object"`
	j := strings.LastIndex(body[:i], open)
	return j < 0 || strings.HasPrefix(body[j+len(open):], " hidden")
}

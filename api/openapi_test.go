package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/cms"
)

// dig walks a decoded JSON document by object keys.
func dig(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("no object at %q in %v", k, v)
		}
		v = m[k]
	}
	return v
}

// The OpenAPI document describes what the server does: the where
// operators it accepts, integer paging and the origin it was asked on.
func TestOpenAPI_AgreesWithServer(t *testing.T) {
	e := newCMS(t, api.Config{})
	// On a custom domain and a port of its own, the document names the
	// origin it was fetched from, port included, not the canonical one.
	if _, err := e.Catalog.AddDomain(context.Background(), "tenant-a", "cms.tenant-a.test", true); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(e.Srv.URL)
	host := "cms.tenant-a.test:" + u.Port()
	doc := e.Call(t, host, "GET", "/api", "", "")
	apitest.WantStatus(t, doc, 200, "")

	servers := doc.Raw["servers"].([]any)
	if got, want := dig(t, servers[0], "url"), "http://"+host; got != want {
		t.Errorf("servers[0].url = %v, want %v", got, want)
	}

	var enum []string
	for _, op := range dig(t, doc.Raw, "components", "schemas", "WhereCondition", "properties", "operator", "enum").([]any) {
		enum = append(enum, op.(string))
	}
	if !slices.Equal(enum, cms.Operators()) {
		t.Errorf("OpenAPI operators = %v, want cms's %v", enum, cms.Operators())
	}
	// Each listed operator is one the list route takes.
	for _, op := range cms.Operators() {
		cond := map[string]any{"field": "data.price", "operator": op, "value": 1}
		switch op {
		case "like", "contains":
			cond = map[string]any{"field": "title", "operator": op, "value": "x"}
		case "in", "not_in":
			cond["value"] = []int{1}
		case "exists":
			delete(cond, "value")
		}
		where, _ := json.Marshal(cond)
		res := e.Call(t, "tenant-a", "GET", "/api/collections/posts/content?where="+url.QueryEscape(string(where)), e.admin, "")
		if res.Status != 200 {
			t.Errorf("operator %s: %d %s", op, res.Status, res.Error.Message)
		}
	}

	params := map[string]any{}
	for _, p := range dig(t, doc.Raw, "paths", "/api/collections/posts/content", "get", "parameters").([]any) {
		params[dig(t, p, "name").(string)] = p
	}
	for name, max := range map[string]float64{"limit": cms.MaxListLimit, "offset": 2147483647} {
		if got := dig(t, params[name], "schema", "type"); got != "integer" {
			t.Errorf("%s is %v, want integer", name, got)
		}
		if got := dig(t, params[name], "schema", "maximum"); got != max {
			t.Errorf("%s maximum = %v, want %v", name, got, max)
		}
	}
	if dig(t, params["where"], "content", "application/json", "schema") == nil {
		t.Errorf("where has no JSON schema: %v", params["where"])
	}
}

// The README's examples and lists are the server's.
func TestREADME_AgreesWithServer(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)

	m := regexp.MustCompile("`where` operators: ([^.]*)\\.").FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("README lists no `where` operators")
	}
	var listed []string
	for _, op := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(m[1], -1) {
		listed = append(listed, op[1])
	}
	if !slices.Equal(listed, cms.Operators()) {
		t.Errorf("README operators = %v, want %v", listed, cms.Operators())
	}

	// A new tenant reports the schema version the README shows.
	e := newIdentity(t, api.Config{})
	res := e.Call(t, "tenant-a", "GET", "/api/tenant", "", "")
	apitest.WantStatus(t, res, 200, "")
	want := strconv.FormatFloat(res.Data["schema_version"].(float64), 'f', -1, 64)
	shown := regexp.MustCompile(`"schema_version":(\d+)`).FindAllStringSubmatch(readme, -1)
	if len(shown) == 0 {
		t.Fatal("README shows no schema_version")
	}
	for _, s := range shown {
		if s[1] != want {
			t.Errorf("README shows schema_version %s; a new tenant reports %s", s[1], want)
		}
	}
}

package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
)

// Every GET route answers HEAD: the same status and headers, no body.
func TestServer_HEAD(t *testing.T) {
	e := newCMS(t, api.Config{})
	heads := map[string]bool{}
	for _, r := range e.API.Routes() {
		if r.Method == http.MethodHead {
			heads[r.Path] = true
		}
	}
	for _, r := range e.API.Routes() {
		if r.Method == http.MethodGet && !heads[r.Path] {
			t.Errorf("GET %s has no HEAD", r.Path)
		}
	}

	id := e.create(t, e.editor, `{"title": "Head", "status": "published"}`)["id"].(string)
	m := e.uploadMedia(t, "tenant-a", e.admin, filePart("logo.png", pngBytes(t, 4, 4))).Data
	platform := apitest.Do(t, e.Srv, "POST", "localhost", "/platform/auth/login",
		strings.NewReader(`{"email": "`+apitest.AdminEmail+`", "password": "`+apitest.AdminPassword+`"}`)).Raw["token"].(string)
	for _, c := range []struct {
		name, host, path, token string
		wantStatus              int
	}{
		{"Healthz", "localhost", "/healthz", "", 200},
		{"Readyz", "localhost", "/readyz", "", 200},
		{"Tenant", "tenant-a.localhost", "/api/tenant", "", 200},
		{"OpenAPI", "tenant-a.localhost", "/api", "", 200},
		{"LibSQLIndex", "tenant-a.localhost", "/v2", "", 200},
		{"Collections", "tenant-a.localhost", "/api/collections", "", 200},
		{"List", "tenant-a.localhost", "/api/collections/posts/content", "", 200},
		{"Item", "tenant-a.localhost", "/api/content/" + id, "", 200},
		{"ItemNotFound", "tenant-a.localhost", "/api/content/nope", "", 404},
		{"Settings", "tenant-a.localhost", "/api/settings", e.admin, 200},
		{"SettingsNoToken", "tenant-a.localhost", "/api/settings", "", 401},
		{"Media", "tenant-a.localhost", m["url"].(string), "", 200},
		{"Platform", "localhost", "/platform/tenants", platform, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			get, getBody := apitest.Send(t, e.Srv.URL, "GET", c.host, c.path, c.token)
			head, headBody := apitest.Send(t, e.Srv.URL, "HEAD", c.host, c.path, c.token)
			if get.StatusCode != c.wantStatus || head.StatusCode != c.wantStatus {
				t.Fatalf("GET %d, HEAD %d, want %d", get.StatusCode, head.StatusCode, c.wantStatus)
			}
			if len(headBody) != 0 {
				t.Errorf("HEAD answered a body of %d bytes", len(headBody))
			}
			if len(getBody) == 0 {
				t.Errorf("GET answered no body")
			}
			for _, h := range []string{"Content-Type", "ETag", "Cache-Control", "Content-Length"} {
				if g, h2 := get.Header.Get(h), head.Header.Get(h); g != h2 {
					t.Errorf("%s: GET %q, HEAD %q", h, g, h2)
				}
			}
			if n := get.Header.Get("Content-Length"); n != "" && n != itoa(len(getBody)) {
				t.Errorf("Content-Length %s for %d bytes", n, len(getBody))
			}
		})
	}
}

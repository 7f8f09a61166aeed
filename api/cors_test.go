package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
)

func TestCORS(t *testing.T) {
	e := newIdentity(t, api.Config{CORS: &api.CORS{AllowedOrigins: []string{"https://default.example"}}})
	adminA, adminB := e.AdminToken(t, "tenant-a"), e.AdminToken(t, "tenant-b")

	// Settings: validated, normalised, shown back; null returns to the default.
	for _, c := range []struct {
		name, cors string
		wantStatus int
	}{
		{"WildcardWithCredentials", `{"allowed_origins": ["*"], "allow_credentials": true}`, 400},
		{"OriginWithPath", `{"allowed_origins": ["https://app.example/app"]}`, 400},
		{"NotHTTP", `{"allowed_origins": ["ftp://app.example"]}`, 400},
		{"WildcardSubdomain", `{"allowed_origins": ["https://*.example"]}`, 400},
		{"BadMethod", `{"allowed_origins": ["https://app.example"], "allowed_methods": ["GE T"]}`, 400},
		{"BadHeader", `{"allowed_origins": ["https://app.example"], "allowed_headers": ["X:Y"]}`, 400},
		{"NegativeMaxAge", `{"allowed_origins": ["https://app.example"], "max_age": -1}`, 400},
		{"UnknownField", `{"allowed_origins": ["https://app.example"], "origins": []}`, 400},
		{"NotAnObject", `["https://app.example"]`, 400},
		{"Valid", `{"allowed_origins": ["HTTPS://App.Example:443", "http://localhost:3000"], "allowed_methods": ["get", "POST"],
			"allow_credentials": true, "max_age": 120}`, 200},
	} {
		t.Run("Settings"+c.name, func(t *testing.T) {
			res := e.Call(t, "tenant-a", "PUT", "/api/settings", adminA, `{"cors": `+c.cors+`}`)
			if c.wantStatus != 200 {
				apitest.WantStatus(t, res, c.wantStatus, "invalid_cors")
				return
			}
			apitest.WantStatus(t, res, 200, "")
			cors := res.Data["cors"].(map[string]any)
			if got := cors["allowed_origins"].([]any); len(got) != 2 || got[0] != "https://app.example" || got[1] != "http://localhost:3000" {
				t.Errorf("allowed_origins %v", got)
			}
			if got := cors["allowed_methods"].([]any); got[0] != "GET" {
				t.Errorf("allowed_methods %v", got)
			}
		})
	}
	apitest.WantStatus(t, e.Call(t, "tenant-b", "PUT", "/api/settings", adminB, `{"cors": {"allowed_origins": ["*"]}}`), 200, "")
	apitest.WantStatus(t, e.Call(t, "tenant-b", "PUT", "/api/settings", adminB, `{"cors": null}`), 200, "")
	if res := e.Call(t, "tenant-b", "GET", "/api/settings", adminB, ""); res.Data["cors"] != nil {
		t.Fatalf("cors after null: %v", res.Data["cors"])
	}

	none := "-" // the header must be absent
	for _, c := range []struct {
		name, method, host, path, origin, requestMethod string
		wantStatus                                      int
		wantOrigin, wantCredentials, wantMethods        string
		wantMaxAge                                      string
	}{
		{"PreflightAllowed", "OPTIONS", "tenant-a", "/api/content/x", "https://app.example", "PATCH", 204, "https://app.example", "true", "GET, POST", "120"},
		{"PreflightSecondOrigin", "OPTIONS", "tenant-a", "/api/collections", "http://localhost:3000", "POST", 204, "http://localhost:3000", "true", "GET, POST", "120"},
		{"PreflightOtherOrigin", "OPTIONS", "tenant-a", "/api/content/x", "https://evil.example", "GET", 204, none, none, none, none},
		{"PreflightServerDefaultNotTenants", "OPTIONS", "tenant-a", "/api/content/x", "https://default.example", "GET", 204, none, none, none, none},
		{"PreflightServerDefault", "OPTIONS", "tenant-b", "/auth/login", "https://default.example", "POST", 204, "https://default.example", none, "GET, HEAD, POST, PUT, PATCH, DELETE", "600"},
		{"PreflightDefaultOtherOrigin", "OPTIONS", "tenant-b", "/auth/login", "https://app.example", "POST", 204, none, none, none, none},
		{"Simple", "GET", "tenant-a", "/api/tenant", "https://app.example", "", 200, "https://app.example", "true", none, none},
		{"SimpleOtherOrigin", "GET", "tenant-a", "/api/tenant", "https://evil.example", "", 200, none, none, none, none},
		{"SimpleNoOrigin", "GET", "tenant-a", "/api/tenant", "", "", 200, none, none, none, none},
		{"ErrorReadable", "GET", "tenant-a", "/api/settings", "https://app.example", "", 401, "https://app.example", "true", none, none},
		{"DefaultSimple", "GET", "tenant-b", "/api/tenant", "https://default.example", "", 200, "https://default.example", none, none, none},
		{"NoPreflightWithoutRequestMethod", "OPTIONS", "tenant-a", "/api/tenant", "https://app.example", "", 204, "https://app.example", "true", none, none},
	} {
		t.Run(c.name, func(t *testing.T) {
			var header []string
			if c.origin != "" {
				header = append(header, "Origin", c.origin)
			}
			if c.requestMethod != "" {
				header = append(header, "Access-Control-Request-Method", c.requestMethod, "Access-Control-Request-Headers", "authorization, content-type")
			}
			res, _ := apitest.Send(t, e.Srv.URL, c.method, c.host+".localhost", c.path, "", header...)
			if res.StatusCode != c.wantStatus {
				t.Fatalf("status %d, want %d", res.StatusCode, c.wantStatus)
			}
			for name, want := range map[string]string{"Access-Control-Allow-Origin": c.wantOrigin,
				"Access-Control-Allow-Credentials": c.wantCredentials, "Access-Control-Allow-Methods": c.wantMethods,
				"Access-Control-Max-Age": c.wantMaxAge} {
				got, ok := res.Header[http.CanonicalHeaderKey(name)]
				switch {
				case want == none && ok:
					t.Errorf("%s: %q, want none", name, got)
				case want != none && (!ok || got[0] != want):
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
			if !slices.Contains(strings.Split(strings.Join(res.Header.Values("Vary"), ","), ","), "Origin") {
				t.Errorf("Vary %q lacks Origin", res.Header.Values("Vary"))
			}
			if c.method == "GET" && c.wantOrigin != none && !strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "ETag") {
				t.Errorf("Access-Control-Expose-Headers %q lacks ETag", res.Header.Get("Access-Control-Expose-Headers"))
			}
		})
	}

	// A wildcard without credentials answers *, never the origin.
	apitest.WantStatus(t, e.Call(t, "tenant-b", "PUT", "/api/settings", adminB, `{"cors": {"allowed_origins": ["*"]}}`), 200, "")
	res, _ := apitest.Send(t, e.Srv.URL, "OPTIONS", "tenant-b.localhost", "/api/tenant", "", "Origin", "https://any.example", "Access-Control-Request-Method", "GET")
	if got := res.Header.Get("Access-Control-Allow-Origin"); res.StatusCode != 204 || got != "*" || res.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("wildcard: %d %q", res.StatusCode, res.Header)
	}
}

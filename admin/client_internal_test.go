package admin

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// The in-process client hands the API the page's Host, client address and
// the session's token, and the headers a page asks for (If-Match); never
// the browser's cookies.
func TestClient_Request(t *testing.T) {
	var got *http.Request
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("ETag", `"x-v2"`)
		w.WriteHeader(http.StatusPreconditionFailed)
		w.Write([]byte(`{"error": {"code": "precondition_failed", "message": "changed"}}`))
	})
	orig := httptest.NewRequest(http.MethodPost, "/admin/content/x", nil)
	orig.Host = "acme.localhost"
	orig.RemoteAddr = "203.0.113.7:5555"
	orig.Header.Set("Cookie", "condo_admin=the-session; condo_csrf=t")
	orig.Header.Set("User-Agent", "a browser")
	c := echo.New().NewContext(orig, httptest.NewRecorder())
	cl := (&Admin{api: api}).client(c, "the-token")
	err := cl.json(http.MethodPut, "/api/content/x", map[string]string{"title": "t"}, nil, "If-Match", `"x-v1"`)
	if e := apiError(err); e == nil || e.Status != http.StatusPreconditionFailed || e.Code != "precondition_failed" {
		t.Fatalf("err = %v, want the API's 412", err)
	}
	for name, want := range map[string]string{"If-Match": `"x-v1"`, "Authorization": "Bearer the-token", "User-Agent": "a browser",
		"Content-Type": "application/json", "Cookie": ""} {
		if v := got.Header.Get(name); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	if got.Host != "acme.localhost" || got.RemoteAddr != "203.0.113.7:5555" {
		t.Errorf("host %q, remote %q: want the page's", got.Host, got.RemoteAddr)
	}
}

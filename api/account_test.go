package api_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/auth"
)

// A tenant's admin exports its archive and closes its account; editors,
// API tokens and impersonators cannot, and the other tenant stays.
func TestAccount_ExportAndClose(t *testing.T) {
	e := apitest.New(t, api.Config{IPLoginBurst: 1000})
	admin := e.AdminToken(t, "tenant-a")
	e.User(t, "tenant-a", "ed@example.com", auth.RoleEditor, "ed's password 1")
	editor, _ := e.Login(t, "tenant-a", "ed@example.com", "ed's password 1")
	tok := e.Call(t, "tenant-a", "POST", "/api/tokens", admin, `{"name": "all of it", "permissions": ["settings.read", "settings.update"]}`)
	apitest.WantStatus(t, tok, 201, "")
	apiToken := tok.Data["token"].(string)
	platform := apitest.Do(t, e.Srv, "POST", "localhost", "/platform/auth/login",
		strings.NewReader(`{"email": "`+apitest.AdminEmail+`", "password": "`+apitest.AdminPassword+`"}`)).Raw["token"].(string)
	imp := e.Call(t, "localhost", "POST", "/platform/tenants/tenant-a/impersonate", platform, `{"reason": "ticket 7"}`)
	apitest.WantStatus(t, imp, 200, "")
	impersonator := imp.Data["token"].(string)

	res, archive := apitest.Send(t, e.Srv.URL, "GET", "tenant-a.localhost", "/api/account/export", admin)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zstd" ||
		!strings.Contains(res.Header.Get("Content-Disposition"), `filename="tenant-a-`) || len(archive) < 100 {
		t.Fatalf("export: %d %v, %d bytes", res.StatusCode, res.Header, len(archive))
	}
	if res, _ := apitest.Send(t, e.Srv.URL, "GET", "tenant-a.localhost", "/api/account/export", impersonator); res.StatusCode != 200 {
		t.Errorf("export by an impersonating admin: %d, want 200", res.StatusCode)
	}

	for _, c := range []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"ExportByEditor", "GET", "/api/account/export", editor, "", 403, "permission_denied"},
		{"ExportByToken", "GET", "/api/account/export", apiToken, "", 403, "permission_denied"},
		{"ExportSignedOut", "GET", "/api/account/export", "", "", 401, "missing_token"},
		{"CloseByEditor", "POST", "/api/account/close", editor, `{"confirm": "tenant-a"}`, 403, "permission_denied"},
		{"CloseByToken", "POST", "/api/account/close", apiToken, `{"confirm": "tenant-a"}`, 403, "permission_denied"},
		{"CloseByImpersonator", "POST", "/api/account/close", impersonator, `{"confirm": "tenant-a"}`, 403, "permission_denied"},
		{"CloseWithoutConfirmation", "POST", "/api/account/close", admin, `{}`, 400, "confirmation_mismatch"},
		{"CloseNamingAnotherTenant", "POST", "/api/account/close", admin, `{"confirm": "tenant-b"}`, 400, "confirmation_mismatch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			apitest.WantStatus(t, e.Call(t, "tenant-a", c.method, c.path, c.token, c.body), c.status, c.code)
		})
	}
	// A's admin on B's host is no one there.
	apitest.WantStatus(t, e.Call(t, "tenant-b", "POST", "/api/account/close", admin, `{"confirm": "tenant-b"}`), 401, "")

	closed := e.Call(t, "tenant-a", "POST", "/api/account/close", admin, `{"confirm": "tenant-a"}`)
	apitest.WantStatus(t, closed, 200, "")
	if got := e.Call(t, "tenant-a", "GET", "/api/tenant", "", ""); got.Status != 410 && got.Status != 404 {
		t.Errorf("tenant-a after closing: %d %v, want 410 or 404", got.Status, got.Raw)
	}
	apitest.WantStatus(t, e.Call(t, "tenant-b", "GET", "/api/tenant", "", ""), 200, "")
	apitest.WantStatus(t, e.Call(t, "tenant-b", "GET", "/api/users", e.AdminToken(t, "tenant-b"), ""), 200, "")
}

// GET /api/plugins says which plugins the tenant's plan allows.
func TestPlugins_ListSaysAllowed(t *testing.T) {
	e := apitest.New(t, api.Config{})
	res := e.Call(t, "tenant-a", "GET", "/api/plugins", e.AdminToken(t, "tenant-a"), "")
	apitest.WantStatus(t, res, 200, "")
	list := res.Raw["data"].([]any)
	if len(list) == 0 {
		t.Fatal("no plugins listed")
	}
	for _, p := range list {
		if allowed, ok := p.(map[string]any)["allowed"].(bool); !ok || !allowed {
			t.Errorf("%v: allowed = %v, want true on the built-in free plan", p.(map[string]any)["name"], p.(map[string]any)["allowed"])
		}
	}
	if one := e.Call(t, "tenant-a", "GET", "/api/plugins/seo", e.AdminToken(t, "tenant-a"), ""); one.Data["allowed"] != true {
		t.Errorf("GET /api/plugins/seo: allowed = %v", one.Data["allowed"])
	}
	if got := res.Raw["meta"].(map[string]any)["plan"]; got != "free" {
		t.Errorf("meta.plan = %v, want free", got)
	}
}

// GET /api/audit filters by actor and by time.
func TestAudit_FilterByActorAndTime(t *testing.T) {
	e := apitest.New(t, api.Config{IPLoginBurst: 1000})
	admin := e.AdminToken(t, "tenant-a")
	me := e.Call(t, "tenant-a", "GET", "/auth/me", admin, "")
	uid := me.Data["user"].(map[string]any)["id"].(string)
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/tokens", admin, `{"name": "one"}`), 201, "")

	list := func(query string) []any {
		t.Helper()
		res := e.Call(t, "tenant-a", "GET", "/api/audit?"+query, admin, "")
		apitest.WantStatus(t, res, 200, "")
		return res.Raw["data"].([]any)
	}
	byActor := list("action=token.created&actor=" + url.QueryEscape(uid))
	if len(byActor) != 1 || byActor[0].(map[string]any)["actor_id"] != uid {
		t.Errorf("by actor: %v", byActor)
	}
	if got := list("action=token.created&actor=someone-else"); len(got) != 0 {
		t.Errorf("by another actor: %v", got)
	}
	tomorrow := time.Now().UTC().Add(24 * time.Hour).Format(time.DateOnly)
	if got := list("action=token.created&since=" + tomorrow); len(got) != 0 {
		t.Errorf("since tomorrow: %v", got)
	}
	if got := list("action=token.created&until=" + tomorrow); len(got) != 1 {
		t.Errorf("until tomorrow: %v", got)
	}
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/audit?since=yesterday", admin, ""), 400, "invalid_query")
}

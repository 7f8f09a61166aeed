package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/auth"
)

func TestAdminAccount_ExportThenClose(t *testing.T) {
	env := newEnv(t)
	b := signedIn(t, env, "tenant-a")
	p := b.get("/admin/account/close")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `href="/admin/account/export"`) || !strings.Contains(p.Body, `data-confirm="tenant-a"`) {
		t.Fatalf("close page: %d %s", p.Status, p.Body)
	}
	req, _ := http.NewRequest("GET", env.Srv.URL+"/admin/account/export", nil)
	req.Host = b.host
	res, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	buf := make([]byte, 32<<10)
	for {
		k, err := res.Body.Read(buf)
		n += int64(k)
		if err != nil {
			break
		}
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zstd" ||
		!strings.Contains(res.Header.Get("Content-Disposition"), `filename="tenant-a-`) || n < 100 {
		t.Fatalf("export: %d %v, %d bytes", res.StatusCode, res.Header, n)
	}

	p = b.post("/admin/account/close", url.Values{"confirm": {"tenant-b"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="err-confirm"`) {
		t.Fatalf("wrong confirmation: %d %s", p.Status, p.Body)
	}
	apitest.WantStatus(t, env.Call(t, "tenant-a", "GET", "/api/tenant", "", ""), 200, "")

	p = b.post("/admin/account/close", url.Values{"confirm": {"tenant-a"}})
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="goodbye"`) || strings.Contains(p.Body, `nav class="main-nav"`) {
		t.Fatalf("close: %d %s", p.Status, p.Body)
	}
	if res := env.Call(t, "tenant-a", "GET", "/api/tenant", "", ""); res.Status != http.StatusGone && res.Status != http.StatusNotFound {
		t.Fatalf("tenant-a after closing: %d %v", res.Status, res.Raw)
	}
	if p := b.get("/admin"); p.Status != http.StatusGone && p.Status != http.StatusNotFound {
		t.Fatalf("tenant-a's admin after closing: %d", p.Status)
	}
	apitest.WantStatus(t, env.Call(t, "tenant-b", "GET", "/api/tenant", "", ""), 200, "")
	if p := signedIn(t, env, "tenant-b").get("/admin"); p.Status != http.StatusOK {
		t.Fatalf("tenant-b's admin: %d", p.Status)
	}
}

func TestAdminAccount_OnlyAdmins(t *testing.T) {
	env := newEnv(t)
	env.User(t, "tenant-a", "ed@example.com", auth.RoleEditor, "ed's password 1")
	ed := newBrowser(t, env, "tenant-a.localhost")
	ed.signIn("/admin", "ed@example.com", "ed's password 1")
	for _, path := range []string{"/admin/account/close", "/admin/account/export"} {
		if p := ed.get(path); p.Status != http.StatusForbidden {
			t.Errorf("editor GET %s: %d", path, p.Status)
		}
	}
	if p := ed.post("/admin/account/close", url.Values{"confirm": {"tenant-a"}}); p.Status != http.StatusForbidden {
		t.Errorf("editor closing: %d", p.Status)
	}
	apitest.WantStatus(t, env.Call(t, "tenant-a", "GET", "/api/tenant", "", ""), 200, "")

	// An impersonating platform admin may export, not close (the console deletes).
	platform := apitest.Do(t, env.Srv, "POST", "localhost", "/platform/auth/login",
		strings.NewReader(`{"email": "`+apitest.AdminEmail+`", "password": "`+apitest.AdminPassword+`"}`)).Raw["token"].(string)
	imp := env.Call(t, "localhost", "POST", "/platform/tenants/tenant-a/impersonate", platform, `{"reason": "ticket 9"}`)
	apitest.WantStatus(t, imp, 200, "")
	ib := newBrowser(t, env, "tenant-a.localhost")
	ib.get("/admin/login")
	if p := ib.post("/admin/impersonate", url.Values{"token": {imp.Data["token"].(string)}}); p.Status != http.StatusSeeOther {
		t.Fatalf("impersonate: %d %s", p.Status, p.Body)
	}
	ib.get("/admin/account/close")
	if p := ib.post("/admin/account/close", url.Values{"confirm": {"tenant-a"}}); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "impersonator") {
		t.Fatalf("impersonator closing: %d %s", p.Status, p.Body)
	}
	apitest.WantStatus(t, env.Call(t, "tenant-a", "GET", "/api/tenant", "", ""), 200, "")
}

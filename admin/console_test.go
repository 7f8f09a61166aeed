package admin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/api/apitest"
)

// platformToken signs the platform admin in to the JSON API.
func platformToken(t *testing.T, env *apitest.Env) string {
	t.Helper()
	r := env.Call(t, "platform.localhost", "POST", "/platform/auth/login", "",
		fmt.Sprintf(`{"email": %q, "password": %q}`, apitest.AdminEmail, apitest.AdminPassword))
	tok, _ := r.Raw["token"].(string)
	if tok == "" {
		t.Fatalf("platform login: %d %v", r.Status, r.Raw)
	}
	return tok
}

// platformTenant reads a tenant through the JSON API.
func platformTenant(t *testing.T, env *apitest.Env, tok, id string) (int, map[string]any) {
	t.Helper()
	r := env.Call(t, "platform.localhost", "GET", "/platform/tenants/"+id, tok, "")
	return r.Status, r.Data
}

// htmx loads path as htmx does for a swap into the element target.
func (b *browser) htmx(path, target string) page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.env.Srv.URL+path, nil)
	req.Host = b.host
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", target)
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{Status: res.StatusCode, Location: res.Header.Get("Location"), Body: string(raw)}
}

var tenantLink = regexp.MustCompile(`<td><a href="/platform/admin/tenants/([a-z0-9-]+)">`)

// listed is the tenant ids a list page shows, in order.
func listed(body string) []string {
	ids := []string{}
	for _, m := range tenantLink.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestAdminConsole_TenantList(t *testing.T) {
	env := newEnv(t)
	tok := platformToken(t, env)
	apitest.WantStatus(t, env.Call(t, "platform.localhost", "POST", "/platform/tenants", tok, `{"id": "gamma", "plan": "pro"}`), 201, "")
	apitest.WantStatus(t, env.Call(t, "platform.localhost", "POST", "/platform/tenants/tenant-b/suspend", tok, ""), 200, "")
	b := console(t, env)
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"All", "", []string{"gamma", "tenant-a", "tenant-b"}},
		{"Search", "?q=tenant", []string{"tenant-a", "tenant-b"}},
		{"SearchName", "?q=name+of+tenant-a", []string{"tenant-a"}},
		{"Status", "?status=suspended", []string{"tenant-b"}},
		{"Plan", "?plan=pro", []string{"gamma"}},
		{"PlanAndStatus", "?plan=pro&status=suspended", []string{}},
		{"SchemaVersion", "?schema_version=99999", []string{}},
		{"Tenants", "/tenants?status=active", []string{"gamma", "tenant-a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/platform/admin" + tc.query
			if strings.HasPrefix(tc.query, "/") {
				path = "/platform/admin" + tc.query
			}
			p := b.get(path)
			if p.Status != http.StatusOK {
				t.Fatalf("%d: %s", p.Status, p.Body)
			}
			if got := listed(p.Body); !slices.Equal(got, tc.want) {
				t.Errorf("listed %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("SearchAsYouType", func(t *testing.T) {
		// htmx asks for the results alone.
		p := b.htmx("/platform/admin?q=gam", "tenant-results")
		body := p.Body
		if p.Status != 200 || strings.Contains(body, "<html") || !strings.HasPrefix(strings.TrimSpace(body), `<div id="tenant-results"`) {
			t.Fatalf("%d, want the results fragment: %s", p.Status, body)
		}
		if got := listed(body); !slices.Equal(got, []string{"gamma"}) {
			t.Errorf("listed %v", got)
		}
	})
	t.Run("BadSchemaVersion", func(t *testing.T) {
		p := b.get("/platform/admin?schema_version=v2")
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `role="alert"`) {
			t.Fatalf("%d, want 400 with the API's message: %s", p.Status, p.Body)
		}
	})
}

func TestAdminConsole_Create(t *testing.T) {
	env := newEnv(t)
	tok := platformToken(t, env)
	b := console(t, env)
	if p := b.get("/platform/admin/tenants/new"); p.Status != 200 || !strings.Contains(p.Body, `name="domains"`) {
		t.Fatalf("new tenant form: %d", p.Status)
	}
	p := b.post("/platform/admin/tenants", url.Values{"id": {"shop"}, "name": {"The Shop"}, "domains": {"shop.example.com\nwww.shop.example.com"}, "plan": {"pro"}})
	if p.Status != http.StatusSeeOther || p.Location != "/platform/admin/tenants/shop" {
		t.Fatalf("create: %d %q %s", p.Status, p.Location, p.Body)
	}
	status, ten := platformTenant(t, env, tok, "shop")
	if status != 200 || ten["name"] != "The Shop" || ten["plan"] != "pro" {
		t.Fatalf("created tenant: %d %v", status, ten)
	}
	var domains []string
	for _, d := range ten["domains"].([]any) {
		domains = append(domains, d.(map[string]any)["domain"].(string))
	}
	if !slices.Equal(domains, []string{"shop.example.com", "www.shop.example.com"}) {
		t.Errorf("domains = %v", domains)
	}
	if p := b.get("/platform/admin/tenants/shop"); p.Status != 200 || !strings.Contains(p.Body, "Tenant shop created.") {
		t.Errorf("tenant page after create: %d, want the flash", p.Status)
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		field  string
	}{
		{"BadID", url.Values{"id": {"Not An Id"}}, 400, "id"},
		{"Taken", url.Values{"id": {"shop"}}, 409, "id"},
		{"DomainTaken", url.Values{"id": {"other"}, "domains": {"shop.example.com"}}, 409, "domains"},
		{"UnknownPlan", url.Values{"id": {"other"}, "plan": {"platinum"}}, 400, "plan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post("/platform/admin/tenants", tc.form)
			if p.Status != tc.status || !strings.Contains(p.Body, `id="err-`+tc.field+`"`) {
				t.Fatalf("%d, want %d with a message beside %s: %s", p.Status, tc.status, tc.field, p.Body)
			}
		})
	}
	if status, _ := platformTenant(t, env, tok, "other"); status != 404 {
		t.Errorf("a refused create made tenant other: %d", status)
	}
}

func TestAdminConsole_SuspendResume(t *testing.T) {
	env := newEnv(t)
	tok := platformToken(t, env)
	b := console(t, env)
	b.get("/platform/admin/tenants/tenant-a")
	for _, step := range []struct {
		op, want  string
		tenantAPI int
	}{{"suspend", "suspended", 403}, {"resume", "active", 200}, {"archive", "archived", 0}, {"restore", "active", 200}} {
		p := b.post("/platform/admin/tenants/tenant-a/"+step.op, url.Values{})
		if p.Status != http.StatusSeeOther || p.Location != "/platform/admin/tenants/tenant-a" {
			t.Fatalf("%s: %d %s", step.op, p.Status, p.Body)
		}
		if _, ten := platformTenant(t, env, tok, "tenant-a"); ten["status"] != step.want {
			t.Fatalf("after %s: status %v, want %s", step.op, ten["status"], step.want)
		}
		if step.tenantAPI != 0 {
			if r := env.Call(t, "tenant-a", "GET", "/api/tenant", "", ""); r.Status != step.tenantAPI {
				t.Errorf("after %s the tenant's API answers %d, want %d", step.op, r.Status, step.tenantAPI)
			}
		}
		if pg := b.get("/platform/admin/tenants/tenant-a"); !strings.Contains(pg.Body, `id="tenant-status">`+step.want+`<`) {
			t.Errorf("after %s the page does not show %s", step.op, step.want)
		}
	}
	t.Run("MoveRefused", func(t *testing.T) {
		// One node, no regions: the API refuses and the page says why,
		// beside the form.
		p := b.post("/platform/admin/tenants/tenant-a/move", url.Values{"region": {"fra"}})
		if p.Status < 400 || p.Status == 500 || !strings.Contains(p.Body, `role="alert"`) {
			t.Fatalf("move: %d %s", p.Status, p.Body)
		}
		t.Logf("move refused: %d", p.Status)
		if _, ten := platformTenant(t, env, tok, "tenant-a"); ten["region"] != "" {
			t.Errorf("region %v after a refused move", ten["region"])
		}
	})
	t.Run("ResumeArchivedRefused", func(t *testing.T) {
		env.Call(t, "platform.localhost", "POST", "/platform/tenants/tenant-b/archive", tok, "")
		p := b.post("/platform/admin/tenants/tenant-b/resume", url.Values{})
		if p.Status != http.StatusConflict || !strings.Contains(p.Body, `role="alert"`) {
			t.Fatalf("%d, want 409 with the API's message", p.Status)
		}
	})
	t.Run("PlanAndDomains", func(t *testing.T) {
		if p := b.post("/platform/admin/tenants/tenant-a/plan", url.Values{"plan": {"pro"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("plan: %d %s", p.Status, p.Body)
		}
		if p := b.post("/platform/admin/tenants/tenant-a/domains", url.Values{"domain": {"a.example.com"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("add domain: %d %s", p.Status, p.Body)
		}
		if _, ten := platformTenant(t, env, tok, "tenant-a"); ten["plan"] != "pro" || len(ten["domains"].([]any)) != 1 {
			t.Fatalf("tenant-a: %v", ten)
		}
		if p := b.post("/platform/admin/tenants/tenant-b/domains/remove", url.Values{"domain": {"a.example.com"}}); p.Status != http.StatusNotFound {
			t.Errorf("removing tenant-a's domain from tenant-b: %d, want 404", p.Status)
		}
		if p := b.post("/platform/admin/tenants/tenant-a/domains/remove", url.Values{"domain": {"a.example.com"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("remove domain: %d %s", p.Status, p.Body)
		}
		if _, ten := platformTenant(t, env, tok, "tenant-a"); len(ten["domains"].([]any)) != 0 {
			t.Fatalf("domain not removed: %v", ten["domains"])
		}
	})
}

func TestAdminConsole_Delete(t *testing.T) {
	env := newEnv(t)
	tok := platformToken(t, env)
	b := console(t, env)
	b.get("/platform/admin/tenants/tenant-b")
	for _, confirm := range []string{"", "tenant-a", "TENANT-B", "tenant-"} {
		p := b.post("/platform/admin/tenants/tenant-b/delete", url.Values{"confirm": {confirm}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="err-confirm"`) {
			t.Fatalf("confirm %q: %d, want 422 beside the field", confirm, p.Status)
		}
		if status, _ := platformTenant(t, env, tok, "tenant-b"); status != 200 {
			t.Fatalf("confirm %q deleted tenant-b: %d", confirm, status)
		}
	}
	p := b.post("/platform/admin/tenants/tenant-b/delete", url.Values{"confirm": {"tenant-b"}, "reason": {"test"}})
	if p.Status != http.StatusSeeOther || p.Location != "/platform/admin" {
		t.Fatalf("delete: %d %s", p.Status, p.Body)
	}
	if status, _ := platformTenant(t, env, tok, "tenant-b"); status != 404 {
		t.Errorf("after delete: %d, want 404", status)
	}
	if status, _ := platformTenant(t, env, tok, "tenant-a"); status != 200 {
		t.Errorf("tenant-a after tenant-b's delete: %d", status)
	}
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)" hx-boost="false" id="handover"`)
	tokenField = regexp.MustCompile(`name="token" value="([^"]+)"`)
)

func TestAdminConsole_Impersonate(t *testing.T) {
	env := newEnv(t)
	b := console(t, env)
	b.get("/platform/admin/tenants/tenant-a")
	if p := b.post("/platform/admin/tenants/tenant-a/impersonate", url.Values{"reason": {"  "}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="err-reason"`) {
		t.Fatalf("no reason: %d, want 400 beside the field", p.Status)
	}
	req, _ := http.NewRequest("POST", env.Srv.URL+"/platform/admin/tenants/tenant-a/impersonate",
		strings.NewReader(url.Values{"reason": {"ticket 42"}, "_csrf": {b.csrf}}.Encode()))
	req.Host = "platform.localhost:8443"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	body := string(raw)
	if res.StatusCode != 200 {
		t.Fatalf("impersonate: %d %s", res.StatusCode, body)
	}
	// The hand-over page may post to the console and to tenant-a's admin,
	// on the request's port, and nowhere else.
	csp := res.Header.Get("Content-Security-Policy")
	var formSrc string
	for _, d := range strings.Split(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 && f[0] == "form-action" {
			formSrc = strings.Join(f[1:], " ")
		}
	}
	if want := "'self' http://tenant-a.localhost:8443"; formSrc != want {
		t.Errorf("form-action %q, want %q (CSP %q)", formSrc, want, csp)
	}
	if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("the rest of the CSP changed: %q", csp)
	}
	m, tm := formAction.FindStringSubmatch(body), tokenField.FindStringSubmatch(body)
	if m == nil || tm == nil || m[1] != "http://tenant-a.localhost:8443/admin/impersonate" {
		t.Fatalf("hand-over form: %v %v in %s", m, tm, body)
	}
	if ev := env.PlatformEvents(t, "impersonation"); len(ev) != 1 || ev[0].TenantID != "tenant-a" {
		t.Errorf("security events: %+v", ev)
	}
	if p := b.get("/platform/admin/security?kind=impersonation"); p.Status != 200 || !strings.Contains(p.Body, "reason: ticket 42") {
		t.Errorf("the console's security events do not show the impersonation: %d", p.Status)
	}
	// The browser posts the form to tenant-a's host: signed in there, with
	// the banner.
	tb := newBrowser(t, env, "tenant-a.localhost")
	p := tb.do("POST", "/admin/impersonate", strings.NewReader(url.Values{"token": {html.UnescapeString(tm[1])}}.Encode()), "application/x-www-form-urlencoded")
	if p.Status != http.StatusSeeOther || p.Location != "/admin" {
		t.Fatalf("hand-over: %d %q %s", p.Status, p.Location, p.Body)
	}
	p = tb.get("/admin")
	if p.Status != 200 || !strings.Contains(p.Body, `id="impersonation-banner"`) || !strings.Contains(p.Body, "End impersonation") {
		t.Fatalf("tenant admin: %d, want the banner: %s", p.Status, p.Body)
	}
	// The token is tenant-a's: on tenant-b's host it is nobody.
	other := newBrowser(t, env, "tenant-b.localhost")
	if p := other.do("POST", "/admin/impersonate", strings.NewReader(url.Values{"token": {html.UnescapeString(tm[1])}}.Encode()), "application/x-www-form-urlencoded"); p.Status != http.StatusUnauthorized {
		t.Errorf("tenant-a's impersonation on tenant-b: %d, want 401", p.Status)
	}
	t.Run("SuspendedTenant", func(t *testing.T) {
		b.post("/platform/admin/tenants/tenant-b/suspend", url.Values{})
		b.get("/platform/admin/tenants/tenant-b")
		if p := b.post("/platform/admin/tenants/tenant-b/impersonate", url.Values{"reason": {"x"}}); p.Status != http.StatusConflict {
			t.Errorf("impersonating a suspended tenant: %d, want 409", p.Status)
		}
	})
}

func TestAdminConsole_TenantSessionIsNoConsoleSession(t *testing.T) {
	env := newEnv(t)
	for _, tc := range []struct{ name, cookie, value string }{
		{"TenantTokenAsConsoleCookie", "condo_console", env.AdminToken(t, "tenant-a")},
		{"TenantCookie", "condo_admin", env.AdminToken(t, "tenant-a")},
		{"Garbage", "condo_console", "not a token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, env, "platform.localhost")
			u, _ := url.Parse(env.Srv.URL + "/platform/admin")
			b.hc.Jar.SetCookies(u, []*http.Cookie{{Name: tc.cookie, Value: tc.value, Path: "/"}})
			for _, path := range []string{"/platform/admin", "/platform/admin/tenants/tenant-a", "/platform/admin/tenants/tenant-a/export", "/platform/admin/security"} {
				if p := b.get(path); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/platform/admin/login") {
					t.Errorf("GET %s: %d %q, want the console's sign-in", path, p.Status, p.Location)
				}
			}
			// A write is refused before it reaches the API.
			b.get("/platform/admin/login")
			if p := b.post("/platform/admin/tenants/tenant-a/suspend", url.Values{}); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/platform/admin/login") {
				t.Errorf("suspend: %d %q", p.Status, p.Location)
			}
		})
	}
	if r := env.Call(t, "tenant-a", "GET", "/api/tenant", "", ""); r.Data["id"] != "tenant-a" {
		t.Errorf("tenant-a: %v", r.Raw)
	}
}

func TestAdminConsole_Migrations(t *testing.T) {
	env := newEnv(t)
	tok := platformToken(t, env)
	b := console(t, env)
	if p := b.get("/platform/admin/migrations"); p.Status != 200 || !strings.Contains(p.Body, "Start a run") {
		t.Fatalf("migrations: %d %s", p.Status, p.Body)
	}
	if p := b.post("/platform/admin/migrations/run", url.Values{"concurrency": {"two"}}); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="err-concurrency"`) {
		t.Fatalf("bad concurrency: %d", p.Status)
	}
	if p := b.post("/platform/admin/migrations/run", url.Values{"direction": {"down"}}); p.Status != http.StatusBadRequest {
		t.Fatalf("down without a version: %d, want the API's 400", p.Status)
	}
	p := b.post("/platform/admin/migrations/run", url.Values{"direction": {"up"}, "concurrency": {"2"}})
	id := strings.TrimPrefix(p.Location, "/platform/admin/migrations/runs/")
	if p.Status != http.StatusSeeOther || id == p.Location || id == "" {
		t.Fatalf("start: %d %q %s", p.Status, p.Location, p.Body)
	}
	var run struct {
		Status string `json:"status"`
		Total  int    `json:"total"`
		Done   int
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := env.Call(t, "platform.localhost", "GET", "/platform/migrations/runs/"+id, tok, "")
		raw, _ := json.Marshal(r.Data)
		json.Unmarshal(raw, &run)
		if run.Status != "running" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if run.Status != "succeeded" || run.Total != 2 {
		t.Fatalf("run: %+v", run)
	}
	frag := b.get("/platform/admin/migrations/runs/" + id + "/progress")
	if frag.Status != 200 || strings.Contains(frag.Body, "<html") || !strings.Contains(frag.Body, `id="run-state">succeeded<`) ||
		!strings.Contains(frag.Body, `<span id="run-done">2</span> of <span id="run-total">2</span>`) {
		t.Fatalf("progress fragment: %d %s", frag.Status, frag.Body)
	}
	if strings.Contains(frag.Body, "hx-trigger") {
		t.Errorf("a finished run's fragment still polls: %s", frag.Body)
	}
	if p := b.get("/platform/admin/migrations/runs/" + id); p.Status != 200 || !strings.Contains(p.Body, "Concurrency</dt><dd>2<") {
		t.Errorf("run page: %d", p.Status)
	}
	if p := b.get("/platform/admin/migrations"); !strings.Contains(p.Body, `href="/platform/admin/migrations/runs/`+id+`"`) {
		t.Errorf("run history does not list %s", id)
	}
	if p := b.get("/platform/admin/migrations/runs/nope"); p.Status != 404 {
		t.Errorf("unknown run: %d", p.Status)
	}
}

func TestAdminConsole_Pages(t *testing.T) {
	env := newEnv(t)
	tok := env.AdminToken(t, "tenant-a")
	apitest.WantStatus(t, env.Call(t, "tenant-a", "PUT", "/api/settings", tok, `{"branding": {"name": "Alpha Co", "primary_color": "#aa0000", "accent_color": "#005500"}}`), 200, "")
	for range 3 {
		env.Call(t, "tenant-a", "GET", "/api/tenant", "", "")
	}
	b := console(t, env)
	for _, tc := range []struct{ path, want string }{
		{"/platform/admin/tenants/tenant-a", "Alpha Co"},
		{"/platform/admin/nodes", "Nodes and regions"},
		{"/platform/admin/jobs", "<h1>Jobs</h1>"},
		{"/platform/admin/jobs?kind=migration&tenant=tenant-a", "No jobs match."},
		{"/platform/admin/backups", `href="/platform/admin/tenants/tenant-b"`},
		{"/platform/admin/security", "Security events"},
		{"/platform/admin/usage", `<svg class="chart console-chart"`},
		{"/platform/admin/usage?from=2026-01-01&to=2026-01-07", "Jan 1"},
	} {
		p := b.get(tc.path)
		if p.Status != 200 || !strings.Contains(p.Body, tc.want) {
			t.Errorf("GET %s: %d, want %q in %s", tc.path, p.Status, tc.want, p.Body)
		}
		if strings.Contains(p.Body, " style=") || strings.Contains(p.Body, "<script>") {
			t.Errorf("GET %s has inline style or script", tc.path)
		}
	}
	if p := b.htmx("/platform/admin/jobs?kind=migration", "jobs-table"); p.Status != 200 || !strings.HasPrefix(strings.TrimSpace(p.Body), `<div id="jobs-table">`) {
		t.Errorf("jobs fragment: %d %s", p.Status, p.Body)
	}
	if p := b.get("/platform/admin/jobs?kind=nope"); p.Status != 400 || !strings.Contains(p.Body, `id="err-kind"`) {
		t.Errorf("unknown job kind: %d", p.Status)
	}
	for _, path := range []string{"/platform/admin/usage?from=2026-02-01&to=2026-01-01", "/platform/admin/tenants/tenant-a?from=yesterday"} {
		if p := b.get(path); p.Status != 400 || !strings.Contains(p.Body, `id="err-from"`) {
			t.Errorf("GET %s: %d, want 400 beside the range", path, p.Status)
		}
	}
	if p := b.get("/platform/admin/tenants/tenant-a?from=2026-01-01&to=2026-01-03"); p.Status != 200 || !strings.Contains(p.Body, "<td>2026-01-02</td><td>0</td>") {
		t.Errorf("tenant-a's usage over three days: %d", p.Status)
	}
	t.Run("Branding", func(t *testing.T) {
		// Each tenant's page links its own preview stylesheet.
		css := regexp.MustCompile(`href="(/platform/admin/tenants/[a-z-]+/brand\.css\?v=[0-9a-f]+)"`)
		brand := map[string]string{}
		for _, id := range []string{"tenant-a", "tenant-b"} {
			m := css.FindStringSubmatch(b.get("/platform/admin/tenants/" + id).Body)
			if m == nil {
				t.Fatalf("%s: no preview stylesheet", id)
			}
			p := b.get(html.UnescapeString(m[1]))
			if p.Status != 200 || !strings.HasPrefix(p.Body, ".brand-preview{") {
				t.Fatalf("%s: %d %q", m[1], p.Status, p.Body)
			}
			brand[id] = p.Body
		}
		if !strings.Contains(brand["tenant-a"], "--brand:#aa0000") || !strings.Contains(brand["tenant-a"], "--accent:#005500") {
			t.Errorf("tenant-a's preview: %s", brand["tenant-a"])
		}
		if !strings.Contains(brand["tenant-b"], "--brand:#2952cc") {
			t.Errorf("tenant-b's preview (unbranded): %s", brand["tenant-b"])
		}
		// The list's swatches: a class per listed tenant.
		m := regexp.MustCompile(`href="(/platform/admin/tenants\.css\?[^"]+)"`).FindStringSubmatch(b.get("/platform/admin?q=tenant-a").Body)
		if m == nil {
			t.Fatal("the list links no swatch stylesheet")
		}
		p := b.get(html.UnescapeString(m[1]))
		if p.Status != 200 || !strings.HasPrefix(p.Body, ".brand-tenant-a{--brand:#aa0000;") || strings.Contains(p.Body, "tenant-b") {
			t.Errorf("%s: %d %q", m[1], p.Status, p.Body)
		}
	})
	t.Run("Logo", func(t *testing.T) {
		// tenant-a's logo is a media file on its own host: the console
		// fetches it from there, as an image of its own.
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		fw, _ := w.CreateFormFile("file", "logo.png")
		img := image.NewRGBA(image.Rect(0, 0, 4, 4))
		png.Encode(fw, img)
		w.Close()
		r := apitest.Do(t, env.Srv, "POST", "tenant-a.localhost", "/api/media", &body, "Authorization", "Bearer "+tok, "Content-Type", w.FormDataContentType())
		apitest.WantStatus(t, r, 201, "")
		logo, _ := r.Data["url"].(string)
		if !strings.HasPrefix(logo, "/media/") {
			t.Fatalf("media url %q", logo)
		}
		apitest.WantStatus(t, env.Call(t, "tenant-a", "PUT", "/api/settings", tok, `{"branding": {"name": "Alpha Co", "primary_color": "#aa0000", "logo_url": "`+logo+`"}}`), 200, "")
		if p := b.get("/platform/admin/tenants/tenant-a"); !strings.Contains(p.Body, `<img src="/platform/admin/tenants/tenant-a/logo"`) {
			t.Errorf("the tenant page shows no logo")
		}
		req, _ := http.NewRequest("GET", env.Srv.URL+"/platform/admin/tenants/tenant-a/logo", nil)
		req.Host = "platform.localhost"
		res, err := b.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(raw, []byte("\x89PNG")) {
			t.Errorf("logo: %d %v", res.StatusCode, res.Header)
		}
		if p := b.get("/platform/admin/tenants/tenant-b/logo"); p.Status != 404 {
			t.Errorf("tenant-b has no logo: %d", p.Status)
		}
	})
	t.Run("Export", func(t *testing.T) {
		req, _ := http.NewRequest("GET", env.Srv.URL+"/platform/admin/tenants/tenant-a/export", nil)
		req.Host = "platform.localhost"
		res, err := b.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if cd := res.Header.Get("Content-Disposition"); res.StatusCode != 200 || !strings.HasPrefix(cd, `attachment; filename="tenant-a-`) ||
			res.Header.Get("Content-Type") != "application/zstd" || len(raw) < 100 {
			t.Fatalf("export: %d %v %d bytes", res.StatusCode, res.Header, len(raw))
		}
		// The archive imports as a new tenant.
		ptok := platformToken(t, env)
		r := apitest.Do(t, env.Srv, "POST", "platform.localhost", "/platform/tenants/import?id=copy-a", strings.NewReader(string(raw)), "Authorization", "Bearer "+ptok)
		apitest.WantStatus(t, r, 201, "")
		if p := b.get("/platform/admin/tenants/nope/export"); p.Status != 404 {
			t.Errorf("export of no tenant: %d", p.Status)
		}
	})
	t.Run("UsageOnTenantPage", func(t *testing.T) {
		p := b.get("/platform/admin/tenants/tenant-a")
		if !regexp.MustCompile(`Users / items</span><span class="stat-value">(–|\d+) / (–|\d+)</span>`).MatchString(p.Body) {
			t.Errorf("users and items not shown as numbers")
		}
		for _, want := range []string{`id="chart-requests"`, `id="chart-errors"`, `id="chart-storage"`, "as a table"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("tenant page lacks %s", want)
			}
		}
	})
	if p := b.get("/platform/admin/tenants/nope"); p.Status != 404 {
		t.Errorf("unknown tenant: %d", p.Status)
	}
}

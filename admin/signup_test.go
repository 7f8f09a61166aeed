package admin_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
)

func signupEnv(t *testing.T) *apitest.Env {
	t.Helper()
	return apitest.New(t, api.Config{Signup: true, IPLoginBurst: 1000, SignupLimits: api.SignupLimits{IPBurst: 100}})
}

var (
	statusAttr  = regexp.MustCompile(`data-status="([a-z]+)"`)
	verifyToken = regexp.MustCompile(`/platform/admin/signup/verify\?token=([a-z2-7]+)`)
	hiddenField = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
)

// hidden returns the hidden fields of a page.
func hidden(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// postFrom posts form to path from a page of origin (the Origin header a
// browser sends on a cross-origin form), without this host's CSRF token.
func (b *browser) postFrom(origin, path string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.env.Srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Host = b.host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{Status: res.StatusCode, Location: res.Header.Get("Location"), Body: string(raw)}
}

func TestAdminSignup_OffIs404(t *testing.T) {
	env := newEnv(t)
	p := newBrowser(t, env, "platform.localhost")
	for _, path := range []string{"/platform/admin/signup", "/platform/admin/signup/check?subdomain=x", "/platform/admin/signup/verify?token=x"} {
		if got := p.get(path); got.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, got.Status)
		}
	}
	if got := p.postFrom("", "/platform/admin/signup", url.Values{"subdomain": {"x"}}); got.Status != http.StatusNotFound {
		t.Errorf("POST /platform/admin/signup: %d, want 404", got.Status)
	}
	tb := newBrowser(t, env, "tenant-a.localhost")
	if got := tb.get("/admin/welcome"); got.Status != http.StatusNotFound {
		t.Errorf("GET /admin/welcome: %d, want 404", got.Status)
	}
	if got := tb.postFrom("http://platform.localhost", "/admin/welcome", url.Values{"token": {"x"}}); got.Status != http.StatusNotFound {
		t.Errorf("POST /admin/welcome: %d, want 404", got.Status)
	}
}

func TestAdminSignup_LiveCheck(t *testing.T) {
	env := signupEnv(t)
	b := newBrowser(t, env, "platform.localhost")
	if p := b.get("/platform/admin/signup"); p.Status != http.StatusOK || !strings.Contains(p.Body, `hx-get="/platform/admin/signup/check"`) {
		t.Fatalf("sign-up page: %d", p.Status)
	}
	for _, tc := range []struct{ sub, status string }{
		{"acme", "available"}, {"tenant-a", "taken"}, {"www", "reserved"}, {"api", "reserved"}, {"Not_OK", "invalid"},
	} {
		req, _ := http.NewRequest(http.MethodGet, env.Srv.URL+"/platform/admin/signup/check?subdomain="+url.QueryEscape(tc.sub), nil)
		req.Host = "platform.localhost"
		req.Header.Set("HX-Request", "true")
		res, err := b.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := statusAttr.FindStringSubmatch(string(body))
		if res.StatusCode != http.StatusOK || m == nil || m[1] != tc.status {
			t.Errorf("check %q: %d %q, want %s", tc.sub, res.StatusCode, body, tc.status)
		}
		if strings.Contains(string(body), "<html") {
			t.Errorf("check %q answered a whole page to htmx", tc.sub)
		}
	}
	// /admin/signup on the platform host is the console's.
	if p := b.get("/admin/signup"); p.Status != http.StatusFound || p.Location != "/platform/admin/signup" {
		t.Errorf("GET /admin/signup on the platform host: %d %q", p.Status, p.Location)
	}
	// Without JavaScript the check is a whole page.
	if p := b.get("/platform/admin/signup/check?subdomain=tenant-b"); p.Status != http.StatusOK || !strings.Contains(p.Body, `data-status="taken"`) || !strings.Contains(p.Body, "<form") {
		t.Errorf("check without htmx: %d", p.Status)
	}
}

func TestAdminSignup_Refusals(t *testing.T) {
	env := signupEnv(t)
	b := newBrowser(t, env, "platform.localhost")
	b.get("/platform/admin/signup")
	for _, tc := range []struct {
		name, sub, email, password, field string
		status                            int
	}{
		{"Reserved", "admin", "x@example.com", "a long password 1", "subdomain", 400},
		{"Taken", "tenant-a", "x@example.com", "a long password 1", "subdomain", 409},
		{"WeakPassword", "fresh", "x@example.com", "short", "password", 400},
		{"BadEmail", "fresh", "nope", "a long password 1", "email", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post("/platform/admin/signup", url.Values{"subdomain": {tc.sub}, "name": {"X"}, "email": {tc.email}, "password": {tc.password}})
			if p.Status != tc.status || !strings.Contains(p.Body, `id="err-`+tc.field+`"`) || !strings.Contains(p.Body, `role="alert"`) {
				t.Fatalf("got %d, want %d with a message beside %s: %s", p.Status, tc.status, tc.field, p.Body)
			}
			if !regexp.MustCompile(`id="` + tc.field + `"[^>]*aria-invalid="true"`).MatchString(p.Body) {
				t.Errorf("%s is not marked invalid", tc.field)
			}
			if !strings.Contains(p.Body, `value="`+tc.sub+`"`) {
				t.Errorf("the form lost what was typed")
			}
		})
	}
	t.Run("WithoutCSRF", func(t *testing.T) {
		p := b.postFrom("", "/platform/admin/signup", url.Values{"subdomain": {"fresh"}, "name": {"X"}, "email": {"x@example.com"}, "password": {"a long password 1"}})
		if p.Status != http.StatusForbidden {
			t.Errorf("got %d, want 403", p.Status)
		}
	})
}

func TestAdminSignup_EndToEnd(t *testing.T) {
	env := signupEnv(t)
	b := newBrowser(t, env, "platform.localhost")
	b.get("/platform/admin/signup")
	p := b.post("/platform/admin/signup", url.Values{"subdomain": {"acme"}, "name": {"Acme & Co"}, "email": {"owner@example.com"}, "password": {"a long password 1"}})
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/platform/admin/signup/sent?") {
		t.Fatalf("submit: %d %q %s", p.Status, p.Location, p.Body)
	}
	if p = b.get(p.Location); p.Status != http.StatusOK || !strings.Contains(p.Body, "owner@example.com") || !strings.Contains(p.Body, "acme.localhost") {
		t.Fatalf("sent page: %d %s", p.Status, p.Body)
	}
	// Nothing exists before the link is opened.
	if res := env.Call(t, "acme", "GET", "/api/tenant", "", ""); res.Status != http.StatusNotFound {
		t.Fatalf("acme before verification: %d", res.Status)
	}
	m := verifyToken.FindStringSubmatch(env.Mail(t, "owner@example.com"))
	if m == nil {
		t.Fatalf("no link in the mail: %s", env.Mail(t, "owner@example.com"))
	}
	link := "/platform/admin/signup/verify?token=" + m[1]

	// Opening the link creates nothing: a mail scanner may open it.
	if p = b.get(link); p.Status != http.StatusOK || hidden(p.Body).Get("token") != m[1] {
		t.Fatalf("verify page: %d %s", p.Status, p.Body)
	}
	if res := env.Call(t, "acme", "GET", "/api/tenant", "", ""); res.Status != http.StatusNotFound {
		t.Fatalf("acme after GET of the link: %d", res.Status)
	}
	req, _ := http.NewRequest(http.MethodPost, env.Srv.URL+"/platform/admin/signup/verify",
		strings.NewReader(url.Values{"token": {m[1]}, "_csrf": {b.csrf}}.Encode()))
	req.Host = "platform.localhost"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || !strings.Contains(string(body), `action="http://acme.localhost/admin/welcome"`) {
		t.Fatalf("verify: %d %s", res.StatusCode, body)
	}
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' http://acme.localhost;") || strings.Contains(csp, "script-src 'self' 'unsafe") {
		t.Errorf("ready page CSP = %q", csp)
	}
	handover := hidden(string(body))
	if handover.Get("token") == "" || handover.Get("refresh_token") == "" {
		t.Fatalf("no session to hand over: %v", handover)
	}

	t.Run("LinkIsSingleUse", func(t *testing.T) {
		p := b.post("/platform/admin/signup/verify", url.Values{"token": {m[1]}})
		if p.Status != http.StatusGone || !strings.Contains(p.Body, "used already") {
			t.Errorf("second use: %d %s", p.Status, p.Body)
		}
	})
	t.Run("HandOverNeedsThePlatformOrigin", func(t *testing.T) {
		for _, origin := range []string{"", "null", "http://tenant-a.localhost", "http://evil.example"} {
			if p := newBrowser(t, env, "acme.localhost").postFrom(origin, "/admin/welcome", handover); p.Status != http.StatusForbidden {
				t.Errorf("Origin %q: %d, want 403", origin, p.Status)
			}
		}
	})
	t.Run("HandOverToAnotherTenant", func(t *testing.T) {
		// acme's session posted to tenant-b's host is no session there.
		if p := newBrowser(t, env, "tenant-b.localhost").postFrom("http://platform.localhost", "/admin/welcome", handover); p.Status != http.StatusUnauthorized {
			t.Errorf("got %d, want 401", p.Status)
		}
	})
	t.Run("BogusToken", func(t *testing.T) {
		v := url.Values{"token": {"forged"}, "refresh_token": {"forged"}}
		if p := newBrowser(t, env, "acme.localhost").postFrom("http://platform.localhost", "/admin/welcome", v); p.Status != http.StatusUnauthorized {
			t.Errorf("got %d, want 401", p.Status)
		}
	})

	// The hand-over signs the browser in on the tenant's host.
	tb := newBrowser(t, env, "acme.localhost")
	if p = tb.postFrom("http://platform.localhost:8080", "/admin/welcome", handover); p.Status != http.StatusSeeOther || p.Location != "/admin/welcome" {
		t.Fatalf("hand-over: %d %q %s", p.Status, p.Location, p.Body)
	}
	if p = tb.get("/admin/welcome"); p.Status != http.StatusOK || !strings.Contains(p.Body, "Posts") || !strings.Contains(p.Body, "Welcome to Acme &amp; Co") {
		t.Fatalf("welcome page: %d %s", p.Status, p.Body)
	}
	if p = tb.get("/admin"); p.Status != http.StatusOK {
		t.Errorf("dashboard after the hand-over: %d", p.Status)
	}
	// What the API says of the new tenant, with the chosen password.
	tok, _ := env.Login(t, "acme", "owner@example.com", "a long password 1")
	me := env.Call(t, "acme", "GET", "/auth/me", tok, "")
	if me.Data["role"] != "admin" {
		t.Errorf("role = %v", me.Data["role"])
	}
	cols := env.Call(t, "acme", "GET", "/api/collections", tok, "")
	list, _ := cols.Raw["data"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["name"] != "posts" {
		t.Errorf("collections = %v", cols.Raw["data"])
	}
	// tenant-a's admin session does not open acme's welcome page.
	a := signedIn(t, env, "tenant-a")
	u, _ := url.Parse(env.Srv.URL + "/admin")
	other := newBrowser(t, env, "acme.localhost")
	other.hc.Jar.SetCookies(u, a.hc.Jar.Cookies(u))
	if p := other.get("/admin/welcome"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/admin/login") {
		t.Errorf("tenant-a's cookie on acme's welcome: %d %q", p.Status, p.Location)
	}
}

func TestAdminSignup_RateLimitMessage(t *testing.T) {
	env := apitest.New(t, api.Config{Signup: true, SignupLimits: api.SignupLimits{IPBurst: 1}})
	b := newBrowser(t, env, "platform.localhost")
	b.get("/platform/admin/signup")
	form := url.Values{"subdomain": {"admin"}, "name": {"X"}, "email": {"x@example.com"}, "password": {"a long password 1"}}
	if p := b.post("/platform/admin/signup", form); p.Status != http.StatusBadRequest {
		t.Fatalf("first: %d", p.Status)
	}
	form.Set("subdomain", "fresh")
	p := b.post("/platform/admin/signup", form)
	if p.Status != http.StatusTooManyRequests || !strings.Contains(p.Body, `role="alert"`) || !strings.Contains(p.Body, "too many sign-ups") {
		t.Fatalf("second: %d %s", p.Status, p.Body)
	}
}

package admin_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
)

// browser is a cookie-keeping HTTP client on one host: the admin as a
// browser with JavaScript off sees it (forms post, redirects are
// answered with the next page).
type browser struct {
	t    *testing.T
	env  *apitest.Env
	host string
	hc   *http.Client
	csrf string // the last page's CSRF token
}

// newBrowser is a browser on host ("tenant-a.localhost",
// "platform.localhost") of a fresh apitest server.
func newBrowser(t *testing.T, env *apitest.Env, host string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, env: env, host: host, hc: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is one answer.
type page struct {
	Status   int
	Location string // a redirect's target
	Body     string
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

func (b *browser) do(method, path string, body io.Reader, ctype string) page {
	b.t.Helper()
	req, err := http.NewRequest(method, b.env.Srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Host = b.host
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	// The client files cookies under the request's Host, as a browser
	// does: one browser per host keeps each tenant's apart.
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	p := page{Status: res.StatusCode, Location: res.Header.Get("Location"), Body: string(raw)}
	if m := csrfField.FindStringSubmatch(p.Body); m != nil {
		b.csrf = m[1]
	}
	return p
}

// jarURLs are the URLs the browser's cookies may be filed under: the
// server's address, or its host (the client files them by Host).
func (b *browser) jarURLs() []*url.URL {
	var out []*url.URL
	for _, raw := range []string{b.env.Srv.URL + "/admin", "http://" + b.host + "/admin"} {
		u, _ := url.Parse(raw)
		out = append(out, u)
	}
	return out
}

// cookie is the browser's cookie called name, nil if it has none.
func (b *browser) cookie(name string) *http.Cookie {
	for _, u := range b.jarURLs() {
		for _, ck := range b.hc.Jar.Cookies(u) {
			if ck.Name == name {
				return ck
			}
		}
	}
	return nil
}

// setCookie gives the browser ck, as if its server had set it.
func (b *browser) setCookie(ck *http.Cookie) {
	for _, u := range b.jarURLs() {
		b.hc.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/admin"}})
	}
}

// get loads path.
func (b *browser) get(path string) page { b.t.Helper(); return b.do(http.MethodGet, path, nil, "") }

// post submits a form to path with the CSRF token of the last page.
func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	if b.csrf == "" {
		b.get(strings.TrimSuffix(path, "/"))
	}
	form.Set("_csrf", b.csrf)
	return b.do(http.MethodPost, path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

// signIn signs in at base ("/admin" or "/platform/admin").
func (b *browser) signIn(base, email, password string) {
	b.t.Helper()
	b.get(base + "/login")
	p := b.post(base+"/login", url.Values{"email": {email}, "password": {password}})
	if p.Status != http.StatusSeeOther {
		b.t.Fatalf("sign in to %s%s: %d %s", b.host, base, p.Status, p.Body)
	}
}

// newEnv is an apitest server (tenants tenant-a and tenant-b, each with
// admin@example.com; the platform admin apitest.AdminEmail).
func newEnv(t *testing.T) *apitest.Env {
	t.Helper()
	return apitest.New(t, api.Config{IPLoginBurst: 1000})
}

// signedIn is a browser signed in to tenant's admin as its admin.
func signedIn(t *testing.T, env *apitest.Env, tenant string) *browser {
	t.Helper()
	b := newBrowser(t, env, tenant+".localhost")
	b.signIn("/admin", "admin@example.com", apitest.AdminPass+tenant)
	return b
}

// console is a browser signed in to the platform console.
func console(t *testing.T, env *apitest.Env) *browser {
	t.Helper()
	b := newBrowser(t, env, "platform.localhost")
	b.signIn("/platform/admin", apitest.AdminEmail, apitest.AdminPassword)
	return b
}

func TestAdmin_SignIn(t *testing.T) {
	env := newEnv(t)
	t.Run("SignedOutGoesToLogin", func(t *testing.T) {
		p := newBrowser(t, env, "tenant-a.localhost").get("/admin")
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/admin/login") {
			t.Fatalf("got %d %q, want a redirect to the sign-in page", p.Status, p.Location)
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		b := newBrowser(t, env, "tenant-a.localhost")
		b.get("/admin/login")
		p := b.post("/admin/login", url.Values{"email": {"admin@example.com"}, "password": {"wrong password"}})
		if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, `role="alert"`) {
			t.Fatalf("got %d, want 401 with the API's message: %s", p.Status, p.Body)
		}
	})
	t.Run("WithoutCSRFToken", func(t *testing.T) {
		b := newBrowser(t, env, "tenant-a.localhost")
		p := b.do(http.MethodPost, "/admin/login", strings.NewReader("email=admin%40example.com&password=x"), "application/x-www-form-urlencoded")
		if p.Status != http.StatusForbidden {
			t.Fatalf("got %d, want 403", p.Status)
		}
	})
	t.Run("Dashboard", func(t *testing.T) {
		p := signedIn(t, env, "tenant-a").get("/admin")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "Name of tenant-a") {
			t.Fatalf("got %d: %s", p.Status, p.Body)
		}
	})
	t.Run("OtherTenantsCookieIsNoSession", func(t *testing.T) {
		// A's session cookie replayed on B's host: B's API refuses A's
		// token, so the page sends the browser to B's sign-in.
		a := signedIn(t, env, "tenant-a")
		session := a.cookie("condo_admin")
		if session == nil {
			t.Fatal("no session cookie after signing in")
		}
		b := newBrowser(t, env, "tenant-b.localhost")
		b.setCookie(session)
		p := b.get("/admin")
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/admin/login") {
			t.Fatalf("got %d %q, want the sign-in page", p.Status, p.Location)
		}
	})
	t.Run("Console", func(t *testing.T) {
		p := console(t, env).get("/platform/admin")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "Tenants") {
			t.Fatalf("got %d: %s", p.Status, p.Body)
		}
	})
	t.Run("PlatformHostAdminIsConsole", func(t *testing.T) {
		p := newBrowser(t, env, "platform.localhost").get("/admin/tenants")
		if p.Status != http.StatusFound || p.Location != "/platform/admin/tenants" {
			t.Fatalf("got %d %q", p.Status, p.Location)
		}
	})
}

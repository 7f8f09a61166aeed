package admin_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/auth"
)

var newTokenField = regexp.MustCompile(`id="new-token">([^<]+)<`)

// tokens lists a tenant's tokens through the API, by name.
func tokens(t *testing.T, env *apitest.Env, tenant string) map[string]map[string]any {
	t.Helper()
	res := env.Call(t, tenant, "GET", "/api/tokens", env.AdminToken(t, tenant), "")
	apitest.WantStatus(t, res, 200, "")
	out := map[string]map[string]any{}
	for _, v := range res.Raw["data"].([]any) {
		tok := v.(map[string]any)
		out[tok["name"].(string)] = tok
	}
	return out
}

func permsOf(tok map[string]any) string {
	var names []string
	for _, p := range tok["permissions"].([]any) {
		names = append(names, p.(string))
	}
	return strings.Join(names, ",")
}

func TestAdminTokens_CreateShownOnceAndRevoke(t *testing.T) {
	env := newEnv(t)
	b := signedIn(t, env, "tenant-a")
	if p := b.get("/admin/tokens"); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="token-form"`) {
		t.Fatalf("tokens page: %d %s", p.Status, p.Body)
	}
	p := b.post("/admin/tokens", url.Values{"name": {"deploy"}, "access": {"all"}, "expires": {"30"}})
	m := newTokenField.FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || m == nil || !strings.Contains(p.Body, `data-copy="#new-token"`) {
		t.Fatalf("create: %d, want the token shown with a copy button: %s", p.Status, p.Body)
	}
	secret := m[1]
	if !strings.HasPrefix(secret, "condo_tenant-a_") {
		t.Fatalf("secret = %q", secret)
	}
	apitest.WantStatus(t, env.Call(t, "tenant-a", "GET", "/api/collections", secret, ""), 200, "")
	tok, ok := tokens(t, env, "tenant-a")["deploy"]
	if !ok || tok["expires_at"] == nil || strings.Contains(permsOf(tok), "tokens.manage") {
		t.Fatalf("deploy token = %v", tok)
	}
	// Shown once: the list never has it again.
	if p := b.get("/admin/tokens"); strings.Contains(p.Body, secret) || !strings.Contains(p.Body, "deploy") {
		t.Fatalf("the list shows the secret again, or not the token: %s", p.Body)
	}

	p = b.post("/admin/tokens/"+tok["id"].(string)+"/revoke", url.Values{})
	if p.Status != http.StatusSeeOther || p.Location != "/admin/tokens" {
		t.Fatalf("revoke: %d %q", p.Status, p.Location)
	}
	if _, ok := tokens(t, env, "tenant-a")["deploy"]; ok {
		t.Fatal("the token is still listed after revoking")
	}
	apitest.WantStatus(t, env.Call(t, "tenant-a", "GET", "/api/collections", secret, ""), 401, "")
}

func TestAdminTokens_Kinds(t *testing.T) {
	env := newEnv(t)
	b := signedIn(t, env, "tenant-a")
	for _, c := range []struct {
		access string
		extra  url.Values
		want   string
	}{
		{"sql-read", nil, "sql.read"},
		{"sql-write", nil, "sql.read,sql.write"},
		{"read", nil, "content.read,content.read_drafts,collections.read,media.read,users.read,settings.read,audit.read,sql.read"},
		{"custom", url.Values{"permissions": {"content.read", "media.read"}}, "content.read,media.read"},
		{"role:author", nil, "content.create,content.read,content.update,content.delete,content.read_drafts,collections.read,media.create,media.read,media.update"},
	} {
		t.Run(c.access, func(t *testing.T) {
			form := url.Values{"name": {"token " + c.access}, "access": {c.access}}
			for k, v := range c.extra {
				form[k] = v
			}
			p := b.post("/admin/tokens", form)
			if p.Status != http.StatusOK || newTokenField.FindStringSubmatch(p.Body) == nil {
				t.Fatalf("create: %d %s", p.Status, p.Body)
			}
			if strings.HasPrefix(c.access, "sql") && !strings.Contains(p.Body, `id="libsql-url"`) {
				t.Errorf("a libSQL token's page does not say where to connect")
			}
			if got := permsOf(tokens(t, env, "tenant-a")["token "+c.access]); got != c.want {
				t.Errorf("permissions = %s, want %s", got, c.want)
			}
		})
	}
}

func TestAdminTokens_Refusals(t *testing.T) {
	env := newEnv(t)
	b := signedIn(t, env, "tenant-a")
	t.Run("NoName", func(t *testing.T) {
		p := b.post("/admin/tokens", url.Values{"name": {""}, "access": {"all"}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `role="alert"`) || newTokenField.MatchString(p.Body) {
			t.Fatalf("got %d: %s", p.Status, p.Body)
		}
	})
	t.Run("ExpiryDate", func(t *testing.T) {
		if p := b.post("/admin/tokens", url.Values{"name": {"dated"}, "expires": {"date"}, "expires_on": {"soon"}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="err-expires_on"`) {
			t.Fatalf("no date: %d %s", p.Status, p.Body)
		}
		if p := b.post("/admin/tokens", url.Values{"name": {"dated"}, "expires": {"date"}, "expires_on": {"2001-01-01"}}); p.Status != http.StatusBadRequest {
			t.Fatalf("a past date: %d", p.Status)
		}
		if p := b.post("/admin/tokens", url.Values{"name": {"dated"}, "expires": {"date"}, "expires_on": {"2099-06-30"}}); p.Status != http.StatusOK {
			t.Fatalf("a date: %d %s", p.Status, p.Body)
		}
		if got := tokens(t, env, "tenant-a")["dated"]["expires_at"]; got != "2099-06-30T23:59:59Z" {
			t.Fatalf("expires_at = %v", got)
		}
	})
	t.Run("EditorHasNoTokensPage", func(t *testing.T) {
		env.User(t, "tenant-a", "ed@example.com", auth.RoleEditor, "ed's password 1")
		ed := newBrowser(t, env, "tenant-a.localhost")
		ed.signIn("/admin", "ed@example.com", "ed's password 1")
		if p := ed.get("/admin/tokens"); p.Status != http.StatusForbidden {
			t.Fatalf("editor: %d", p.Status)
		}
	})
	t.Run("CrossTenantRevoke", func(t *testing.T) {
		res := env.Call(t, "tenant-b", "POST", "/api/tokens", env.AdminToken(t, "tenant-b"), `{"name": "bravo"}`)
		apitest.WantStatus(t, res, 201, "")
		p := b.post("/admin/tokens/"+res.Data["id"].(string)+"/revoke", url.Values{})
		if p.Status != http.StatusNotFound {
			t.Fatalf("tenant-a revoking tenant-b's token: %d", p.Status)
		}
		if _, ok := tokens(t, env, "tenant-b")["bravo"]; !ok {
			t.Fatal("tenant-b's token is gone")
		}
		if p := b.get("/admin/tokens"); strings.Contains(p.Body, "bravo") {
			t.Fatal("tenant-a's page lists tenant-b's token")
		}
	})
}

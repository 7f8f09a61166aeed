package admin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/condohq/condo/api/apitest"
)

// apiUser is one user as the JSON API lists it.
type apiUser struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Role   string `json:"role"`
	Active bool   `json:"is_active"`
}

// getJSON reads path on tenant's host as its admin into out.
func getJSON(t *testing.T, env *apitest.Env, tenant, path string, out any) int {
	t.Helper()
	res, body := env.Fetch(t, tenant, "GET", path, "Authorization", "Bearer "+env.AdminToken(t, tenant))
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %v %s", path, err, body)
		}
	}
	return res.StatusCode
}

func userByEmail(t *testing.T, env *apitest.Env, tenant, email string) *apiUser {
	t.Helper()
	var out struct {
		Data []apiUser `json:"data"`
	}
	getJSON(t, env, tenant, "/api/users?limit=1000", &out)
	for i := range out.Data {
		if out.Data[i].Email == email {
			return &out.Data[i]
		}
	}
	return nil
}

var invitationLink = regexp.MustCompile(`http://tenant-a\.localhost(?::\d+)?(/admin/invitations/[a-z2-7]+)\n`)

func TestAdminUsers_Manage(t *testing.T) {
	env := newEnv(t)
	b := signedIn(t, env, "tenant-a")
	edID := env.User(t, "tenant-a", "ed@example.com", "editor", "editor password 1")

	t.Run("List", func(t *testing.T) {
		p := b.get("/admin/users")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "ed@example.com") || !strings.Contains(p.Body, `id="user-`+edID+`"`) {
			t.Fatalf("got %d: %s", p.Status, p.Body)
		}
	})
	t.Run("ChangeRole", func(t *testing.T) {
		if p := b.post("/admin/users/"+edID+"/role", url.Values{"role": {"author"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("got %d: %s", p.Status, p.Body)
		}
		if u := userByEmail(t, env, "tenant-a", "ed@example.com"); u.Role != "author" {
			t.Fatalf("role = %s", u.Role)
		}
		p := b.post("/admin/users/"+edID+"/role", url.Values{"role": {"no-such-role"}})
		if p.Status < 400 || p.Status >= 500 || !strings.Contains(p.Body, `role="alert"`) {
			t.Fatalf("unknown role: %d %s", p.Status, p.Body)
		}
	})
	t.Run("Deactivate", func(t *testing.T) {
		if p := b.post("/admin/users/"+edID+"/active", url.Values{"active": {"false"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("got %d: %s", p.Status, p.Body)
		}
		if u := userByEmail(t, env, "tenant-a", "ed@example.com"); u.Active {
			t.Fatal("still active")
		}
		if p := b.get("/admin/users"); !strings.Contains(p.Body, "Deactivated") || !strings.Contains(p.Body, "Reactivate") {
			t.Fatalf("status not shown: %s", p.Body)
		}
		b.post("/admin/users/"+edID+"/active", url.Values{"active": {"true"}})
		if u := userByEmail(t, env, "tenant-a", "ed@example.com"); !u.Active {
			t.Fatal("not reactivated")
		}
	})
	t.Run("Invite", func(t *testing.T) {
		p := b.post("/admin/users/invite", url.Values{"email": {"new@example.com"}, "role": {"editor"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("got %d: %s", p.Status, p.Body)
		}
		var out struct {
			Data []struct{ ID, Email, Role string } `json:"data"`
		}
		getJSON(t, env, "tenant-a", "/api/invitations", &out)
		if len(out.Data) != 1 || out.Data[0].Email != "new@example.com" || out.Data[0].Role != "editor" {
			t.Fatalf("invitations = %+v", out.Data)
		}
		if p := b.get("/admin/users"); !strings.Contains(p.Body, "new@example.com") {
			t.Fatal("pending invitation not listed")
		}
		if invitationLink.FindStringSubmatch(env.Mail(t, "new@example.com")) == nil {
			t.Fatalf("the mail does not link to the admin: %s", env.Mail(t, "new@example.com"))
		}
		p = b.post("/admin/users/invite", url.Values{"email": {"ed@example.com"}, "role": {"editor"}})
		if p.Status != http.StatusConflict || !strings.Contains(p.Body, `value="ed@example.com"`) {
			t.Fatalf("inviting a user: %d %s", p.Status, p.Body)
		}
		if p := b.post("/admin/users/invitations/"+out.Data[0].ID+"/revoke", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("revoke: %d %s", p.Status, p.Body)
		}
		getJSON(t, env, "tenant-a", "/api/invitations", &out)
		if len(out.Data) != 0 {
			t.Fatalf("still pending: %+v", out.Data)
		}
	})
	t.Run("Roles", func(t *testing.T) {
		p := b.get("/admin/users/roles")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "<code>content.publish</code>") || !strings.Contains(p.Body, "built in") {
			t.Fatalf("got %d: %s", p.Status, p.Body)
		}
		p = b.post("/admin/users/roles", url.Values{"name": {"reviewer"}, "description": {"reads drafts"}, "permissions": {"content.read", "content.read_drafts"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", p.Status, p.Body)
		}
		var out struct {
			Data []struct {
				Name        string   `json:"name"`
				Permissions []string `json:"permissions"`
			} `json:"data"`
		}
		getJSON(t, env, "tenant-a", "/api/roles", &out)
		var got []string
		for _, r := range out.Data {
			if r.Name == "reviewer" {
				got = r.Permissions
			}
		}
		if strings.Join(got, ",") != "content.read,content.read_drafts" {
			t.Fatalf("reviewer = %v", got)
		}
		if p := b.get("/admin/users/roles/reviewer"); p.Status != http.StatusOK || !strings.Contains(p.Body, "Delete the role reviewer") {
			t.Fatalf("edit: %d", p.Status)
		}
		if p := b.post("/admin/users/roles/reviewer/delete", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d %s", p.Status, p.Body)
		}
	})
	t.Run("EditorCannotManage", func(t *testing.T) {
		env.User(t, "tenant-a", "ed2@example.com", "editor", "editor password 2")
		e := newBrowser(t, env, "tenant-a.localhost")
		e.signIn("/admin", "ed2@example.com", "editor password 2")
		p := e.get("/admin/users")
		if p.Status != http.StatusOK || strings.Contains(p.Body, "Send invitation") || strings.Contains(p.Body, "Change role") {
			t.Fatalf("editor's users page: %d", p.Status)
		}
		if p := e.post("/admin/users/"+edID+"/delete", url.Values{}); p.Status != http.StatusForbidden {
			t.Fatalf("editor deletes: %d", p.Status)
		}
	})
	t.Run("CrossTenant", func(t *testing.T) {
		bobID := env.User(t, "tenant-b", "bob@example.com", "editor", "bob password 1")
		if p := b.get("/admin/users"); strings.Contains(p.Body, "bob@example.com") {
			t.Fatal("A lists B's user")
		}
		if p := b.get("/admin/users/" + bobID + "/delete"); p.Status != http.StatusNotFound {
			t.Fatalf("A's page for B's user: %d", p.Status)
		}
		for _, path := range []string{"/role", "/active", "/delete"} {
			if p := b.post("/admin/users/"+bobID+path, url.Values{"role": {"viewer"}, "active": {"false"}}); p.Status != http.StatusNotFound {
				t.Errorf("A posts %s to B's user: %d", path, p.Status)
			}
		}
		if u := userByEmail(t, env, "tenant-b", "bob@example.com"); u == nil || u.Role != "editor" || !u.Active {
			t.Fatalf("B's user changed: %+v", u)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if p := b.get("/admin/users/" + edID + "/delete"); p.Status != http.StatusOK || !strings.Contains(p.Body, "Delete ed@example.com?") {
			t.Fatalf("confirm: %d %s", p.Status, p.Body)
		}
		if p := b.post("/admin/users/"+edID+"/delete", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d %s", p.Status, p.Body)
		}
		if u := userByEmail(t, env, "tenant-a", "ed@example.com"); u != nil {
			t.Fatal("still there")
		}
	})
}

var resetLink = regexp.MustCompile(`(/admin/reset\?token=[a-z2-7]+)\n`)

func TestAdminRecovery_Pages(t *testing.T) {
	env := newEnv(t)
	env.User(t, "tenant-a", "ed@example.com", "editor", "editor password 1")

	t.Run("ForgotAndReset", func(t *testing.T) {
		b := newBrowser(t, env, "tenant-a.localhost")
		if p := b.get("/admin/forgot"); p.Status != http.StatusOK {
			t.Fatalf("forgot page: %d", p.Status)
		}
		p := b.post("/admin/forgot", url.Values{"email": {"ed@example.com"}})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "is on its way") {
			t.Fatalf("forgot: %d %s", p.Status, p.Body)
		}
		// An unknown address is answered alike.
		if p := b.post("/admin/forgot", url.Values{"email": {"ghost@example.com"}}); p.Status != http.StatusOK || !strings.Contains(p.Body, "is on its way") {
			t.Fatalf("forgot ghost: %d", p.Status)
		}
		m := resetLink.FindStringSubmatch(env.Mail(t, "ed@example.com"))
		if m == nil {
			t.Fatalf("no admin reset link in %q", env.Mail(t, "ed@example.com"))
		}
		if p := b.get(m[1]); p.Status != http.StatusOK || !strings.Contains(p.Body, `name="token"`) {
			t.Fatalf("reset page: %d", p.Status)
		}
		token := strings.TrimPrefix(m[1], "/admin/reset?token=")
		p = b.post("/admin/reset", url.Values{"token": {token}, "password": {"new password 11"}, "password_confirm": {"other password"}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="err-password_confirm"`) {
			t.Fatalf("mismatch: %d %s", p.Status, p.Body)
		}
		p = b.post("/admin/reset", url.Values{"token": {token}, "password": {"short"}, "password_confirm": {"short"}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="err-password"`) {
			t.Fatalf("weak: %d %s", p.Status, p.Body)
		}
		p = b.post("/admin/reset", url.Values{"token": {token}, "password": {"new password 11"}, "password_confirm": {"new password 11"}})
		if p.Status != http.StatusSeeOther || p.Location != "/admin/login" {
			t.Fatalf("reset: %d %q %s", p.Status, p.Location, p.Body)
		}
		b.signIn("/admin", "ed@example.com", "new password 11")
		// The token is spent.
		b2 := newBrowser(t, env, "tenant-a.localhost")
		p = b2.post("/admin/reset", url.Values{"token": {token}, "password": {"third password 1"}, "password_confirm": {"third password 1"}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="err-token"`) {
			t.Fatalf("spent token: %d %s", p.Status, p.Body)
		}
	})
	t.Run("AcceptInvitation", func(t *testing.T) {
		admin := signedIn(t, env, "tenant-a")
		if p := admin.post("/admin/users/invite", url.Values{"email": {"ann@example.com"}, "role": {"author"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("invite: %d %s", p.Status, p.Body)
		}
		m := invitationLink.FindStringSubmatch(env.Mail(t, "ann@example.com"))
		if m == nil {
			t.Fatalf("no admin link in %q", env.Mail(t, "ann@example.com"))
		}
		// Tenant B knows nothing of A's invitation.
		other := newBrowser(t, env, "tenant-b.localhost")
		if p := other.get(m[1]); p.Status != http.StatusNotFound {
			t.Fatalf("A's link on B: %d", p.Status)
		}
		other.get("/admin/login")
		if p := other.post(m[1], url.Values{"password": {"ann's password"}, "password_confirm": {"ann's password"}}); p.Status != http.StatusNotFound {
			t.Fatalf("accepted on B: %d", p.Status)
		}
		ann := newBrowser(t, env, "tenant-a.localhost")
		if p := ann.get(m[1]); p.Status != http.StatusOK || !strings.Contains(p.Body, "Create my account") {
			t.Fatalf("accept page: %d", p.Status)
		}
		p := ann.post(m[1], url.Values{"first_name": {"Ann"}, "password": {"ann's password"}, "password_confirm": {"ann's password"}})
		if p.Status != http.StatusSeeOther || p.Location != "/admin" {
			t.Fatalf("accept: %d %q %s", p.Status, p.Location, p.Body)
		}
		// Signed in: the dashboard, as ann.
		if p := ann.get("/admin"); p.Status != http.StatusOK || !strings.Contains(p.Body, "ann@example.com") {
			t.Fatalf("after accepting: %d %s", p.Status, p.Body)
		}
		if u := userByEmail(t, env, "tenant-a", "ann@example.com"); u == nil || u.Role != "author" {
			t.Fatalf("ann = %+v", u)
		}
		// The link is spent.
		again := newBrowser(t, env, "tenant-a.localhost")
		if p := again.get(m[1]); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "Ask whoever invited you") {
			t.Fatalf("spent link: %d", p.Status)
		}
		again.get("/admin/login")
		if p := again.post(m[1], url.Values{"password": {"ann's password"}, "password_confirm": {"ann's password"}}); p.Status != http.StatusNotFound {
			t.Fatalf("accepted twice: %d", p.Status)
		}
	})
	t.Run("TokenNotLogged", func(t *testing.T) {
		if m := regexp.MustCompile(`/admin/invitations/[a-z2-7]{20,}`).FindString(env.Log.String()); m != "" {
			t.Fatalf("the log holds an invitation token: %s", m)
		}
		if !strings.Contains(env.Log.String(), "/admin/invitations/REDACTED") {
			t.Fatal("the accept page's requests are not in the log")
		}
	})
}

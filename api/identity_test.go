package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// idEnv is a server with two tenants, tenant-a and tenant-b, each with an
// admin (admin@example.com, a different password in each).
type idEnv struct {
	*tenantstoretest.Env
	srv *httptest.Server
	api *api.Server
	log *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

const adminPass = "admin password 1"

func newIdentity(t testing.TB, cfg api.Config) *idEnv {
	t.Helper()
	env := tenantstoretest.MustOpen(t, catalog.Config{HeaderFallback: true}, tenantstore.Config{PoolSize: 8})
	e := &idEnv{Env: env, log: &syncBuffer{}}
	for _, id := range []string{"tenant-a", "tenant-b"} {
		if _, err := env.Store.Create(context.Background(), catalog.NewTenant{ID: id, Name: "Name of " + id}); err != nil {
			t.Fatal(err)
		}
		e.user(t, id, "admin@example.com", auth.RoleAdmin, adminPass+id)
	}
	if _, err := env.Catalog.CreateAdmin(context.Background(), adminEmail, adminPassword); err != nil {
		t.Fatal(err)
	}
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(e.log, nil))
	e.api = api.New(env.Catalog, env.Store, cfg)
	e.srv = httptest.NewServer(e.api)
	t.Cleanup(func() {
		e.srv.Close()
		if t.Failed() { // show the server's internal errors
			for _, line := range strings.Split(e.log.String(), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) {
					t.Log(line)
				}
			}
		}
	})
	return e
}

// store runs fn with a tenant's identity store.
func (e *idEnv) store(t testing.TB, tenant string, fn func(st *auth.Store)) {
	t.Helper()
	h, release, err := e.Store.Acquire(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	fn(auth.New(tenant, h.DB))
}

// user creates a user directly in a tenant's database and returns its id.
func (e *idEnv) user(t testing.TB, tenant, email, role, password string) string {
	t.Helper()
	var id string
	e.store(t, tenant, func(st *auth.Store) {
		u, err := st.CreateUser(context.Background(), auth.NewUser{Email: email, Password: password, Role: role},
			auth.Limits{Users: 100, Policy: auth.DefaultPasswordPolicy})
		if err != nil {
			t.Fatal(err)
		}
		id = u.ID
	})
	return id
}

// call sends a request to a tenant's host with an optional bearer token
// and JSON body.
func (e *idEnv) call(t testing.TB, host, method, path, token, body string, header ...string) response {
	t.Helper()
	if token != "" {
		header = append(header, "Authorization", "Bearer "+token)
	}
	if !strings.Contains(host, ".") {
		host += ".localhost"
	}
	return do(t, e.srv, method, host, path, strings.NewReader(body), header...)
}

// login signs a user in and returns the access and refresh tokens.
func (e *idEnv) login(t testing.TB, tenant, email, password string) (string, string) {
	t.Helper()
	res := e.call(t, tenant, "POST", "/auth/login", "", fmt.Sprintf(`{"email": %q, "password": %q}`, email, password))
	if res.Status != http.StatusOK {
		t.Fatalf("login %s on %s: %d %v", email, tenant, res.Status, res.Raw)
	}
	return res.Raw["token"].(string), res.Raw["refresh_token"].(string)
}

func (e *idEnv) adminToken(t testing.TB, tenant string) string {
	tok, _ := e.login(t, tenant, "admin@example.com", adminPass+tenant)
	return tok
}

// events returns a tenant's audit events of one action.
func (e *idEnv) events(t *testing.T, tenant, action string) []auth.Event {
	t.Helper()
	var out []auth.Event
	e.store(t, tenant, func(st *auth.Store) {
		var err error
		if out, err = st.Events(context.Background(), auth.EventFilter{Action: action}); err != nil {
			t.Fatal(err)
		}
	})
	return out
}

func (e *idEnv) platformEvents(t *testing.T, kind string) []catalog.SecurityEvent {
	t.Helper()
	ev, err := e.Catalog.SecurityEvents(context.Background(), catalog.SecurityEventFilter{Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// mail returns the newest message the outbox holds for an address.
func (e *idEnv) mail(t *testing.T, to string) string {
	t.Helper()
	msgs, err := e.Catalog.Outbox(context.Background(), catalog.OutboxFilter{To: to, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) == 0 {
		t.Fatalf("no mail to %s", to)
	}
	return msgs[0].Body
}

// secretIn extracts the 52-character token a mail carries.
func secretIn(t *testing.T, body, before string) string {
	t.Helper()
	i := strings.Index(body, before)
	if i < 0 {
		t.Fatalf("no %q in mail %q", before, body)
	}
	rest := body[i+len(before):]
	return rest[:52]
}

func wantStatus(t *testing.T, res response, status int, code string) {
	t.Helper()
	if res.Status != status || code != "" && res.Error.Code != code {
		t.Fatalf("got %d %v, want %d %s", res.Status, res.Raw, status, code)
	}
}

func TestAuth_SessionLifecycle(t *testing.T) {
	e := newIdentity(t, api.Config{})
	tok, refresh := e.login(t, "tenant-a", "Admin@Example.com ", adminPass+"tenant-a")
	if res := e.call(t, "tenant-a", "POST", "/auth/login", "", `{"email": "admin@example.com", "password": "`+adminPass+`tenant-a"}`); res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("a session answer may be cached: %v", res.Header)
	}

	me := e.call(t, "tenant-a", "GET", "/auth/me", tok, "")
	wantStatus(t, me, 200, "")
	if me.Data["role"] != "admin" || me.Data["user"].(map[string]any)["email"] != "admin@example.com" {
		t.Fatalf("me: %v", me.Raw)
	}
	if strings.Contains(fmt.Sprint(me.Raw), "password") {
		t.Fatalf("me shows a password field: %v", me.Raw)
	}

	// Refresh rotates: a new pair; the old refresh token is spent.
	r1 := e.call(t, "tenant-a", "POST", "/auth/refresh", "", `{"refresh_token": "`+refresh+`"}`)
	wantStatus(t, r1, 200, "")
	tok2, refresh2 := r1.Raw["token"].(string), r1.Raw["refresh_token"].(string)
	if refresh2 == refresh || tok2 == tok {
		t.Fatal("refresh did not rotate")
	}
	wantStatus(t, e.call(t, "tenant-a", "GET", "/auth/me", tok2, ""), 200, "")

	// Reusing the spent token ends the whole family: the newest tokens die too.
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/refresh", "", `{"refresh_token": "`+refresh+`"}`), 401, "refresh_token_reused")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/refresh", "", `{"refresh_token": "`+refresh2+`"}`), 401, "invalid_refresh_token")
	wantStatus(t, e.call(t, "tenant-a", "GET", "/auth/me", tok2, ""), 401, "invalid_token")
	if len(e.events(t, "tenant-a", "refresh_token_reused")) != 1 || len(e.platformEvents(t, "refresh_token_reused")) != 1 {
		t.Fatal("refresh token reuse not recorded")
	}

	// Logout ends the session at once, access token included.
	tok3, refresh3 := e.login(t, "tenant-a", "admin@example.com", adminPass+"tenant-a")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/logout", tok3, ""), 204, "")
	wantStatus(t, e.call(t, "tenant-a", "GET", "/auth/me", tok3, ""), 401, "invalid_token")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/refresh", "", `{"refresh_token": "`+refresh3+`"}`), 401, "invalid_refresh_token")
	// A refresh token alone logs out too.
	_, refresh4 := e.login(t, "tenant-a", "admin@example.com", adminPass+"tenant-a")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/logout", "", `{"refresh_token": "`+refresh4+`"}`), 204, "")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/refresh", "", `{"refresh_token": "`+refresh4+`"}`), 401, "invalid_refresh_token")

	// Wrong password, unknown email: the same answer.
	for _, body := range []string{`{"email": "admin@example.com", "password": "nope nope nope"}`, `{"email": "nobody@example.com", "password": "nope nope nope"}`} {
		wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/login", "", body), 401, "invalid_credentials")
	}
	if ev := e.events(t, "tenant-a", "login_failed"); len(ev) != 2 || ev[0].IP == "" {
		t.Fatalf("login failures recorded: %+v", ev)
	}
}

func TestAuth_SameEmailSeparateTenants(t *testing.T) {
	e := newIdentity(t, api.Config{})
	// admin@example.com exists in both tenants with different passwords.
	e.login(t, "tenant-a", "admin@example.com", adminPass+"tenant-a")
	e.login(t, "tenant-b", "admin@example.com", adminPass+"tenant-b")
	wantStatus(t, e.call(t, "tenant-b", "POST", "/auth/login", "", `{"email": "admin@example.com", "password": "`+adminPass+`tenant-a"}`), 401, "invalid_credentials")
}

func TestAuth_Register(t *testing.T) {
	e := newIdentity(t, api.Config{})
	body := `{"email": "new@example.com", "password": "long enough pw"}`
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/register", "", body), 403, "signup_disabled")

	admin := e.adminToken(t, "tenant-a")
	wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/settings", admin, `{"auth": {"default_role": "admin"}}`), 400, "invalid_settings")
	wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/settings", admin, `{"auth": {"min_length": 3}}`), 400, "invalid_settings")
	res := e.call(t, "tenant-a", "PUT", "/api/settings", admin,
		`{"auth": {"allow_signup": true, "password_policy": {"min_length": 12, "require_digit": true, "require_upper": true}}, "general": {"site_name": "Alpha"}}`)
	wantStatus(t, res, 200, "")
	if res.Data["general"].(map[string]any)["site_name"] != "Alpha" || res.Data["auth"].(map[string]any)["default_role"] != "viewer" {
		t.Fatalf("settings: %v", res.Raw)
	}
	weak := e.call(t, "tenant-a", "POST", "/auth/register", "", `{"email": "new@example.com", "password": "short"}`)
	wantStatus(t, weak, 400, "weak_password")
	if !strings.Contains(weak.Error.Message, "12 characters") || !strings.Contains(weak.Error.Message, "digit") || !strings.Contains(weak.Error.Message, "upper") {
		t.Fatalf("policy message names the rules: %q", weak.Error.Message)
	}
	reg := e.call(t, "tenant-a", "POST", "/auth/register", "", `{"email": "new@example.com", "password": "Long enough pw 1", "first_name": "Nu"}`)
	wantStatus(t, reg, 201, "")
	if reg.Raw["user"].(map[string]any)["role"] != "viewer" || reg.Raw["token"] == "" {
		t.Fatalf("register: %v", reg.Raw)
	}
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/register", "", `{"email": "NEW@example.com", "password": "Long enough pw 1"}`), 409, "user_exists")
	// Tenant B's settings are its own: sign-up stays off there.
	wantStatus(t, e.call(t, "tenant-b", "POST", "/auth/register", "", `{"email": "new@example.com", "password": "Long enough pw 1"}`), 403, "signup_disabled")

	// The plan's user limit holds: tenant-a has 2 users now.
	limit := int64(3)
	if _, err := e.Catalog.UpdateTenant(context.Background(), "tenant-a", catalog.TenantUpdate{UserLimit: &limit}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/register", "", `{"email": "third@example.com", "password": "Long enough pw 1"}`), 201, "")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/register", "", `{"email": "fourth@example.com", "password": "Long enough pw 1"}`), 403, "user_limit_reached")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/users", admin, `{"email": "fifth@example.com", "password": "Long enough pw 1"}`), 403, "user_limit_reached")
	users := e.call(t, "tenant-a", "GET", "/api/users", admin, "")
	if users.Raw["meta"].(map[string]any)["total"] != float64(3) {
		t.Fatalf("users after the limit: %v", users.Raw["meta"])
	}
}

func TestAuth_PasswordChangeAndReset(t *testing.T) {
	e := newIdentity(t, api.Config{})
	e.user(t, "tenant-a", "ed@example.com", auth.RoleEditor, "first password")
	tok1, _ := e.login(t, "tenant-a", "ed@example.com", "first password")
	tok2, _ := e.login(t, "tenant-a", "ed@example.com", "first password")

	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/password", tok1, `{"current_password": "wrong one!", "new_password": "second password"}`), 400, "wrong_password")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/password", tok1, `{"current_password": "first password", "new_password": "short"}`), 400, "weak_password")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/password", tok1, `{"current_password": "first password", "new_password": "second password"}`), 204, "")
	wantStatus(t, e.call(t, "tenant-a", "GET", "/auth/me", tok1, ""), 200, "")              // this session stays
	wantStatus(t, e.call(t, "tenant-a", "GET", "/auth/me", tok2, ""), 401, "invalid_token") // the others end
	e.login(t, "tenant-a", "ed@example.com", "second password")

	// Forgot: 202 whether or not the account exists; mail only for a real one.
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/password/forgot", "", `{"email": "ghost@example.com"}`), 202, "")
	if msgs, _ := e.Catalog.Outbox(context.Background(), catalog.OutboxFilter{To: "ghost@example.com"}); len(msgs) != 0 {
		t.Fatal("mail sent for an unknown account")
	}
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/password/forgot", "", `{"email": "ed@example.com"}`), 202, "")
	body := e.mail(t, "ed@example.com")
	token := secretIn(t, body, `"token": "`)
	if !strings.Contains(body, "http://tenant-a.localhost/auth/password/reset") {
		t.Fatalf("reset mail does not point at the tenant: %q", body)
	}
	if strings.Contains(e.log.String(), token) {
		t.Fatal("the reset token is in the log")
	}
	// Tenant B knows nothing of A's reset token.
	wantStatus(t, e.call(t, "tenant-b", "POST", "/auth/password/reset", "", `{"token": "`+token+`", "password": "third password"}`), 400, "invalid_reset_token")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/password/reset", "", `{"token": "`+token+`", "password": "third password"}`), 204, "")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/password/reset", "", `{"token": "`+token+`", "password": "fourth password"}`), 400, "invalid_reset_token")
	wantStatus(t, e.call(t, "tenant-a", "GET", "/auth/me", tok1, ""), 401, "invalid_token")
	e.login(t, "tenant-a", "ed@example.com", "third password")
}

// TestAuth_Roles checks what each built-in role may do, that a refusal is
// recorded, and that nobody can grant more than they hold.
func TestAuth_Roles(t *testing.T) {
	e := newIdentity(t, api.Config{})
	tokens := map[string]string{"admin": e.adminToken(t, "tenant-a")}
	for _, role := range []string{"editor", "author", "viewer"} {
		e.user(t, "tenant-a", role+"@example.com", role, "password of "+role)
		tokens[role], _ = e.login(t, "tenant-a", role+"@example.com", "password of "+role)
	}
	for _, c := range []struct {
		method, path, body string
		want               map[string]int
	}{
		{"GET", "/api/users", "", map[string]int{"admin": 200, "editor": 200, "author": 403, "viewer": 403, "": 401}},
		{"POST", "/api/users", `{"email": "x@example.com", "password": "long password"}`, map[string]int{"editor": 403, "author": 403, "viewer": 403, "": 401}},
		{"GET", "/api/settings", "", map[string]int{"admin": 200, "editor": 200, "author": 403, "viewer": 403, "": 401}},
		{"PUT", "/api/settings", `{}`, map[string]int{"editor": 403, "author": 403, "viewer": 403}},
		{"GET", "/api/tokens", "", map[string]int{"admin": 200, "editor": 403, "author": 403, "viewer": 403}},
		{"GET", "/api/audit", "", map[string]int{"admin": 200, "editor": 403, "viewer": 403}},
		{"GET", "/api/roles", "", map[string]int{"admin": 200, "editor": 200, "viewer": 403}},
		{"GET", "/api/invitations", "", map[string]int{"admin": 200, "editor": 200, "viewer": 403}},
		{"POST", "/api/invitations", `{"email": "i@example.com"}`, map[string]int{"editor": 403, "viewer": 403}},
		{"GET", "/auth/me", "", map[string]int{"admin": 200, "editor": 200, "author": 200, "viewer": 200, "": 401}},
	} {
		for role, want := range c.want {
			if res := e.call(t, "tenant-a", c.method, c.path, tokens[role], c.body); res.Status != want {
				t.Errorf("%s %s as %q: %d %v, want %d", c.method, c.path, role, res.Status, res.Raw, want)
			}
		}
	}
	denied := e.events(t, "tenant-a", "permission_denied")
	if len(denied) == 0 || denied[0].ActorType != "user" || !strings.Contains(string(denied[0].Detail), "permission") {
		t.Fatalf("denials recorded: %+v", denied)
	}
	if len(e.events(t, "tenant-b", "permission_denied")) != 0 {
		t.Fatal("tenant-a's denials leaked into tenant-b's log")
	}

	// A custom role that may manage users cannot hand out admin, nor touch
	// an admin, nor raise its own role.
	admin := tokens["admin"]
	wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/roles/admin", admin, `{"permissions": ["users.read"]}`), 409, "builtin_role")
	wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/roles/hr", admin, `{"permissions": ["users.nuke"]}`), 400, "unknown_permission")
	wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/roles/hr", admin,
		`{"description": "people ops", "permissions": ["users.create", "users.read", "users.update", "content.read", "collections.read", "media.read"]}`), 200, "")
	hrID := e.user(t, "tenant-a", "hr@example.com", "hr", "password of hr")
	hr, _ := e.login(t, "tenant-a", "hr@example.com", "password of hr")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/users", hr, `{"email": "boss@example.com", "password": "long password", "role": "admin"}`), 403, "permission_denied")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/users", hr, `{"email": "v@example.com", "password": "long password", "role": "viewer"}`), 201, "")
	wantStatus(t, e.call(t, "tenant-a", "PATCH", "/api/users/"+hrID, hr, `{"role": "admin"}`), 403, "permission_denied")
	users := e.call(t, "tenant-a", "GET", "/api/users?role=admin", admin, "").Raw["data"].([]any)
	adminID := users[0].(map[string]any)["id"].(string)
	wantStatus(t, e.call(t, "tenant-a", "PATCH", "/api/users/"+adminID, hr, `{"is_active": false}`), 403, "permission_denied")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/users", admin, `{"email": "y@example.com", "password": "long password", "role": "root"}`), 400, "unknown_role")
	wantStatus(t, e.call(t, "tenant-a", "DELETE", "/api/roles/hr", admin, ""), 409, "role_in_use")

	// Nor through the sign-up settings, nor by redefining a role.
	wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/roles/configurator", admin,
		`{"permissions": ["settings.read", "settings.update", "content.read", "collections.read", "media.read"]}`), 200, "")
	e.user(t, "tenant-a", "conf@example.com", "configurator", "password of conf")
	conf, _ := e.login(t, "tenant-a", "conf@example.com", "password of conf")
	wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/settings", conf, `{"auth": {"allow_signup": true, "default_role": "editor"}}`), 403, "permission_denied")
	wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/settings", conf, `{"auth": {"allow_signup": true}}`), 200, "")
	wantStatus(t, e.call(t, "tenant-a", "PUT", "/api/roles/hr", conf, `{"permissions": ["content.read"]}`), 403, "permission_denied")
	wantStatus(t, e.call(t, "tenant-a", "DELETE", "/api/roles/hr", conf, ""), 403, "permission_denied")

	// The last active admin stays.
	wantStatus(t, e.call(t, "tenant-a", "PATCH", "/api/users/"+adminID, admin, `{"role": "editor"}`), 409, "last_admin")
	wantStatus(t, e.call(t, "tenant-a", "DELETE", "/api/users/"+adminID, admin, ""), 409, "last_admin")

	// A role change takes effect on the next request, not at token expiry;
	// deactivation ends every session.
	editorID := e.call(t, "tenant-a", "GET", "/auth/me", tokens["editor"], "").Data["user"].(map[string]any)["id"].(string)
	wantStatus(t, e.call(t, "tenant-a", "PATCH", "/api/users/"+editorID, admin, `{"role": "viewer"}`), 200, "")
	wantStatus(t, e.call(t, "tenant-a", "GET", "/api/users", tokens["editor"], ""), 403, "permission_denied")
	wantStatus(t, e.call(t, "tenant-a", "PATCH", "/api/users/"+editorID, admin, `{"is_active": false}`), 200, "")
	wantStatus(t, e.call(t, "tenant-a", "GET", "/auth/me", tokens["editor"], ""), 401, "invalid_token")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/login", "", `{"email": "editor@example.com", "password": "password of editor"}`), 401, "invalid_credentials")
	wantStatus(t, e.call(t, "tenant-a", "DELETE", "/api/users/"+editorID, admin, ""), 204, "")
	wantStatus(t, e.call(t, "tenant-a", "GET", "/api/users/"+editorID, admin, ""), 404, "user_not_found")
	roles := e.call(t, "tenant-a", "GET", "/api/roles", admin, "").Raw["data"].([]any)
	if len(roles) != 6 {
		t.Fatalf("roles: %v", roles)
	}
}

func TestAuth_APITokens(t *testing.T) {
	e := newIdentity(t, api.Config{})
	admin := e.adminToken(t, "tenant-a")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/tokens", admin, `{"name": "x", "permissions": ["tokens.manage"]}`), 400, "invalid_permissions")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/tokens", admin, `{"name": "x", "permissions": ["content.fly"]}`), 400, "unknown_permission")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/tokens", admin, `{"name": "x", "expires_in_days": 0}`), 400, "invalid_expiry")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/tokens", admin, `{"name": "", "read_only": true}`), 400, "invalid_name")

	ro := e.call(t, "tenant-a", "POST", "/api/tokens", admin, `{"name": "reader", "read_only": true, "expires_in_days": 30}`)
	wantStatus(t, ro, 201, "")
	roSecret := ro.Data["token"].(string)
	if !strings.HasPrefix(roSecret, "condo_tenant-a_") || !strings.HasPrefix(roSecret, ro.Data["prefix"].(string)) {
		t.Fatalf("token: %v", ro.Data)
	}
	for _, p := range ro.Data["permissions"].([]any) {
		if !strings.HasSuffix(p.(string), ".read") && p != "content.read_drafts" {
			t.Fatalf("read-only token holds %s", p)
		}
	}
	rw := e.call(t, "tenant-a", "POST", "/api/tokens", admin, `{"name": "writer", "permissions": ["users.read", "users.create", "content.read", "collections.read", "media.read"]}`)
	wantStatus(t, rw, 201, "")
	rwSecret := rw.Data["token"].(string)

	// Listed without secrets, shown once.
	list := e.call(t, "tenant-a", "GET", "/api/tokens", admin, "")
	if b, _ := json.Marshal(list.Raw); strings.Contains(string(b), roSecret) || strings.Contains(string(b), rwSecret) || len(list.Raw["data"].([]any)) != 2 {
		t.Fatalf("list: %s", b)
	}

	wantStatus(t, e.call(t, "tenant-a", "GET", "/api/users", roSecret, ""), 200, "")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/users", roSecret, `{"email": "t@example.com", "password": "long password"}`), 403, "permission_denied")
	wantStatus(t, e.call(t, "tenant-a", "GET", "/api/tokens", roSecret, ""), 403, "permission_denied")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/users", rwSecret, `{"email": "t@example.com", "password": "long password"}`), 201, "")
	me := e.call(t, "tenant-a", "GET", "/auth/me", rwSecret, "")
	if me.Data["kind"] != "api_token" || me.Data["token_id"] != rw.Data["id"] {
		t.Fatalf("me with a token: %v", me.Raw)
	}
	// Audit names the token as the actor.
	if ev := e.events(t, "tenant-a", "user.created"); len(ev) != 1 || ev[0].ActorType != "api_token" || ev[0].ActorID != rw.Data["id"] {
		t.Fatalf("audit: %+v", ev)
	}
	list = e.call(t, "tenant-a", "GET", "/api/tokens", admin, "")
	for _, tk := range list.Raw["data"].([]any) {
		if tk.(map[string]any)["last_used_at"] == nil {
			t.Fatalf("last_used_at not recorded: %v", tk)
		}
	}

	// A's token on B: refused and recorded, on both sides of the platform.
	wantStatus(t, e.call(t, "tenant-b", "GET", "/api/users", roSecret, ""), 401, "invalid_token")
	// Same secret with B's name in it: still refused (B has no such hash).
	forged := strings.Replace(roSecret, "tenant-a", "tenant-b", 1)
	wantStatus(t, e.call(t, "tenant-b", "GET", "/api/users", forged, ""), 401, "invalid_token")
	if ev := e.events(t, "tenant-b", "cross_tenant_token"); len(ev) != 1 || strings.Contains(string(ev[0].Detail), "tenant-a") {
		t.Fatalf("cross-tenant attempt in B's log: %+v", ev)
	}
	if ev := e.platformEvents(t, "cross_tenant_token"); len(ev) != 1 || ev[0].TenantID != "tenant-b" || !strings.Contains(string(ev[0].Detail), "tenant-a") {
		t.Fatalf("cross-tenant attempt in the platform's events: %+v", ev)
	}

	// Revoke one: the other keeps working.
	wantStatus(t, e.call(t, "tenant-a", "DELETE", "/api/tokens/"+rw.Data["id"].(string), admin, ""), 204, "")
	wantStatus(t, e.call(t, "tenant-a", "GET", "/api/users", rwSecret, ""), 401, "invalid_token")
	wantStatus(t, e.call(t, "tenant-a", "GET", "/api/users", roSecret, ""), 200, "")
	wantStatus(t, e.call(t, "tenant-a", "DELETE", "/api/tokens/"+rw.Data["id"].(string), admin, ""), 404, "token_not_found")

	// An expired token is refused.
	exp := e.call(t, "tenant-a", "POST", "/api/tokens", admin, fmt.Sprintf(`{"name": "brief", "read_only": true, "expires_at": %q}`,
		time.Now().Add(1100*time.Millisecond).UTC().Format(time.RFC3339Nano)))
	wantStatus(t, exp, 201, "")
	time.Sleep(1200 * time.Millisecond)
	wantStatus(t, e.call(t, "tenant-a", "GET", "/api/users", exp.Data["token"].(string), ""), 401, "invalid_token")
}

func TestAuth_Invitations(t *testing.T) {
	e := newIdentity(t, api.Config{})
	admin := e.adminToken(t, "tenant-a")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/invitations", admin, `{"email": "admin@example.com"}`), 409, "user_exists")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/invitations", admin, `{"email": "<script>@x"}`), 400, "invalid_email")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/invitations", admin, `{"email": "ann@example.com", "role": "overlord"}`), 400, "unknown_role")
	inv := e.call(t, "tenant-a", "POST", "/api/invitations", admin, `{"email": "Ann@Example.com", "role": "editor"}`)
	wantStatus(t, inv, 201, "")
	if inv.Data["email"] != "ann@example.com" || inv.Data["token"] != nil {
		t.Fatalf("invitation: %v", inv.Raw)
	}
	token := secretIn(t, e.mail(t, "ann@example.com"), "/auth/invitations/")
	pending := e.call(t, "tenant-a", "GET", "/api/invitations", admin, "").Raw["data"].([]any)
	if len(pending) != 1 {
		t.Fatalf("pending: %v", pending)
	}

	// Not on another tenant's host, not with a weak password.
	wantStatus(t, e.call(t, "tenant-b", "POST", "/auth/invitations/"+token+"/accept", "", `{"password": "ann's password"}`), 404, "invitation_not_found")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/invitations/"+token+"/accept", "", `{"password": "short"}`), 400, "weak_password")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/invitations/"+token+"/accept", "", `{"password": "ann's password", "email": "evil@example.com"}`), 400, "invalid_field")
	acc := e.call(t, "tenant-a", "POST", "/auth/invitations/"+token+"/accept", "", `{"password": "ann's password", "first_name": "Ann"}`)
	wantStatus(t, acc, 201, "")
	if u := acc.Raw["user"].(map[string]any); u["role"] != "editor" || u["email"] != "ann@example.com" {
		t.Fatalf("accepted user: %v", u)
	}
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/invitations/"+token+"/accept", "", `{"password": "ann's password"}`), 404, "invitation_not_found")
	e.login(t, "tenant-a", "ann@example.com", "ann's password")
	// Not even a wrong method or a stray slash on the link logs the token.
	e.call(t, "tenant-a", "GET", "/auth/invitations/"+token+"/accept", "", "")
	e.call(t, "tenant-a", "POST", "/auth/invitations/"+token+"/accept/", "", "")
	e.call(t, "tenant-a", "GET", "/auth/invitations/"+token, "", "")
	if strings.Contains(e.log.String(), token) {
		t.Fatal("the invitation token is in the log")
	}

	// Revoked invitations cannot be accepted; a new one replaces the old.
	first := e.call(t, "tenant-a", "POST", "/api/invitations", admin, `{"email": "bob@example.com"}`)
	tok1 := secretIn(t, e.mail(t, "bob@example.com"), "/auth/invitations/")
	e.call(t, "tenant-a", "POST", "/api/invitations", admin, `{"email": "bob@example.com"}`)
	tok2 := secretIn(t, e.mail(t, "bob@example.com"), "/auth/invitations/")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/invitations/"+tok1+"/accept", "", `{"password": "bob's password"}`), 404, "invitation_not_found")
	wantStatus(t, e.call(t, "tenant-a", "DELETE", "/api/invitations/"+first.Data["id"].(string), admin, ""), 404, "invitation_not_found")
	pending = e.call(t, "tenant-a", "GET", "/api/invitations", admin, "").Raw["data"].([]any)
	wantStatus(t, e.call(t, "tenant-b", "DELETE", "/api/invitations/"+pending[0].(map[string]any)["id"].(string), e.adminToken(t, "tenant-b"), ""), 404, "invitation_not_found")
	wantStatus(t, e.call(t, "tenant-a", "DELETE", "/api/invitations/"+pending[0].(map[string]any)["id"].(string), admin, ""), 204, "")
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/invitations/"+tok2+"/accept", "", `{"password": "bob's password"}`), 404, "invitation_not_found")

	// Accepting at the user limit fails and leaves the invitation usable.
	e.call(t, "tenant-a", "POST", "/api/invitations", admin, `{"email": "cy@example.com"}`)
	tok3 := secretIn(t, e.mail(t, "cy@example.com"), "/auth/invitations/")
	limit := int64(2)
	e.Catalog.UpdateTenant(context.Background(), "tenant-a", catalog.TenantUpdate{UserLimit: &limit})
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/invitations/"+tok3+"/accept", "", `{"password": "cy's password"}`), 403, "user_limit_reached")
	limit = 10
	e.Catalog.UpdateTenant(context.Background(), "tenant-a", catalog.TenantUpdate{UserLimit: &limit})
	wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/invitations/"+tok3+"/accept", "", `{"password": "cy's password"}`), 201, "")
}

func TestAuth_Impersonation(t *testing.T) {
	e := newIdentity(t, api.Config{})
	platform := do(t, e.srv, "POST", "localhost", "/platform/auth/login", strings.NewReader(`{"email": "`+adminEmail+`", "password": "`+adminPassword+`"}`)).Raw["token"].(string)
	// A platform token is no tenant token, nor the reverse.
	wantStatus(t, e.call(t, "tenant-a", "GET", "/auth/me", platform, ""), 401, "invalid_token")
	wantStatus(t, e.call(t, "localhost", "GET", "/platform/tenants", e.adminToken(t, "tenant-a"), ""), 401, "invalid_token")

	wantStatus(t, e.call(t, "localhost", "POST", "/platform/tenants/tenant-a/impersonate", platform, `{}`), 400, "missing_fields")
	wantStatus(t, e.call(t, "localhost", "POST", "/platform/tenants/nope/impersonate", platform, `{"reason": "x"}`), 404, "tenant_not_found")
	wantStatus(t, e.call(t, "localhost", "POST", "/platform/tenants/tenant-a/impersonate", platform, `{"reason": "x", "user_id": "nobody"}`), 404, "user_not_found")
	res := e.call(t, "localhost", "POST", "/platform/tenants/tenant-a/impersonate", platform, `{"reason": "ticket 42"}`)
	wantStatus(t, res, 200, "")
	imp := res.Data["token"].(string)
	me := e.call(t, "tenant-a", "GET", "/auth/me", imp, "")
	if me.Data["kind"] != "impersonation" || me.Data["role"] != "admin" || me.Data["impersonated_by"] == nil {
		t.Fatalf("me: %v", me.Raw)
	}
	wantStatus(t, e.call(t, "tenant-a", "GET", "/api/users", imp, ""), 200, "")
	wantStatus(t, e.call(t, "tenant-b", "GET", "/api/users", imp, ""), 401, "invalid_token")

	// As a given user: their role.
	vid := e.user(t, "tenant-a", "vic@example.com", auth.RoleViewer, "vic's password")
	res = e.call(t, "localhost", "POST", "/platform/tenants/tenant-a/impersonate", platform, `{"reason": "ticket 43", "user_id": "`+vid+`"}`)
	wantStatus(t, res, 200, "")
	wantStatus(t, e.call(t, "tenant-a", "GET", "/api/users", res.Data["token"].(string), ""), 403, "permission_denied")

	// The tenant's admins see it in their audit log; the platform too.
	audit := e.call(t, "tenant-a", "GET", "/api/audit?action=impersonation", e.adminToken(t, "tenant-a"), "")
	ev := audit.Raw["data"].([]any)
	if len(ev) != 2 || !strings.Contains(fmt.Sprint(ev[1]), "ticket 42") || !strings.Contains(fmt.Sprint(ev[1]), adminEmail) {
		t.Fatalf("tenant audit: %v", ev)
	}
	if len(e.platformEvents(t, "impersonation")) != 2 || len(e.events(t, "tenant-b", "impersonation")) != 0 {
		t.Fatal("impersonation not recorded where it should be")
	}
	// An impersonation cannot mint a credential that outlives it.
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/tokens", imp, `{"name": "backdoor"}`), 403, "permission_denied")

	// What an impersonator does is recorded with their name.
	wantStatus(t, e.call(t, "tenant-a", "POST", "/api/invitations", imp, `{"email": "z@example.com"}`), 201, "")
	if ev := e.events(t, "tenant-a", "invitation.created"); len(ev) != 1 || ev[0].ImpersonatorID == "" {
		t.Fatalf("impersonated action: %+v", ev)
	}
}

func TestAuth_Throttle(t *testing.T) {
	e := newIdentity(t, api.Config{})
	bad := `{"email": "admin@example.com", "password": "wrong password"}`
	for range api.LoginBurst {
		wantStatus(t, e.call(t, "tenant-a", "POST", "/auth/login", "", bad), 401, "invalid_credentials")
	}
	res := e.call(t, "tenant-a", "POST", "/auth/login", "", `{"email": "admin@example.com", "password": "`+adminPass+`tenant-a"}`)
	wantStatus(t, res, 429, "too_many_attempts")
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	if len(e.events(t, "tenant-a", "login_locked")) != 1 || len(e.platformEvents(t, "login_locked")) != 1 {
		t.Fatal("lockout not recorded")
	}
	// The same email on another tenant is another account.
	e.login(t, "tenant-b", "admin@example.com", adminPass+"tenant-b")

	// The platform login is throttled too.
	for range api.LoginBurst {
		do(t, e.srv, "POST", "localhost", "/platform/auth/login", strings.NewReader(`{"email": "`+adminEmail+`", "password": "wrong"}`))
	}
	res = do(t, e.srv, "POST", "localhost", "/platform/auth/login", strings.NewReader(`{"email": "`+adminEmail+`", "password": "`+adminPassword+`"}`))
	wantStatus(t, res, 429, "too_many_attempts")
	if len(e.platformEvents(t, "platform_login_failed")) != api.LoginBurst {
		t.Fatal("platform login failures not recorded")
	}

	// One IP trying many accounts runs out too.
	n := 0
	for i := range api.IPBurst + 1 {
		res := e.call(t, "tenant-a", "POST", "/auth/login", "", fmt.Sprintf(`{"email": "u%d@example.com", "password": "wrong password"}`, i))
		if res.Status == 429 {
			n++
		}
	}
	if n == 0 {
		t.Fatal("no per-IP limit")
	}
}

// TestAuth_ForgedTokens tries the tokens an attacker can make.
func TestAuth_ForgedTokens(t *testing.T) {
	e := newIdentity(t, api.Config{})
	tok := e.adminToken(t, "tenant-a")
	parts := strings.Split(tok, ".")
	claims := decodeSegment(t, parts[1])
	claims["tid"] = "tenant-b"
	altered := parts[0] + "." + encodeSegment(t, claims) + "." + parts[2]
	none := encodeSegment(t, map[string]any{"alg": "none", "typ": "JWT"}) + "." + parts[1] + "."
	otherSecret := signClaims(t, []byte("another secret, 32 bytes long!!!"), claims)
	claims["exp"] = time.Now().Add(-time.Hour).Unix()
	expired := signClaims(t, testSecret, claims)
	for name, c := range map[string]struct{ host, tok string }{
		"A's token on B":           {"tenant-b", tok},
		"tid altered":              {"tenant-b", altered},
		"alg none":                 {"tenant-a", none},
		"signed by another secret": {"tenant-b", otherSecret},
		"expired":                  {"tenant-b", expired},
		"garbage":                  {"tenant-a", "not.a.token"},
	} {
		res := e.call(t, c.host, "GET", "/auth/me", c.tok, "")
		if res.Status != 401 {
			t.Errorf("%s: %d %v", name, res.Status, res.Raw)
		}
	}
	res := e.call(t, "tenant-a", "GET", "/auth/me", "", "", "Authorization", "Basic YWRtaW46YWRtaW4=")
	wantStatus(t, res, 401, "invalid_token")
	if ev := e.platformEvents(t, "cross_tenant_token"); len(ev) != 1 || ev[0].TenantID != "tenant-b" {
		t.Fatalf("cross-tenant JWT attempt: %+v", ev)
	}
	// Forged tokens are recorded, at most once a minute per client and
	// tenant: two on each tenant here, one row each.
	if ev := e.platformEvents(t, "invalid_token"); len(ev) != 2 || ev[0].TenantID == ev[1].TenantID {
		t.Fatalf("forged token events: %+v", ev)
	}
	wantStatus(t, e.call(t, "tenant-a", "GET", "/auth/me", expired, ""), 401, "token_expired")
}

func TestAuth_BadInput(t *testing.T) {
	e := newIdentity(t, api.Config{BodyLimit: "64K"})
	admin := e.adminToken(t, "tenant-a")
	long := strings.Repeat("x", 70_000)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/auth/login", `{"email": `},
		{"POST", "/auth/login", `[]`},
		{"POST", "/auth/login", `{"email": "a@b.c", "password": "x", "extra": 1}`},
		{"POST", "/auth/login", `{"email": "a@b.c"}`},
		{"POST", "/auth/login", `{"email": "a@b.c", "password": "` + long + `"}`},
		{"POST", "/api/users", `{"email": "x'); DROP TABLE users;--@example.com", "password": "long password"}`},
		{"POST", "/api/users", `{"email": "<script>alert(1)</script>@example.com", "password": "long password"}`},
		{"POST", "/api/users", `{"email": "ok@example.com", "password": "long password", "role": "admin'--"}`},
		{"POST", "/api/users", `{"email": "ok@example.com", "password": "long password", "first_name": "` + strings.Repeat("é", 200) + `"}`},
		{"POST", "/api/users", "{\"email\": \"ok@example.com\", \"password\": \"long password\", \"first_name\": \"a\x01b\"}"},
		{"POST", "/api/users", "{\"email\": \"ok@example.com\", \"password\": \"long \xff password\"}"},
		{"POST", "/api/users", `{"email": "ok@example.com", "password": "` + strings.Repeat("p", 300) + `"}`},
		{"POST", "/api/users", `{"email": "` + strings.Repeat("a", 300) + `@example.com", "password": "long password"}`},
		{"PATCH", "/api/users/nope", `{"role": "viewer"}`},
		{"PUT", "/api/settings", `{"general": [1, 2]}`},
		{"PUT", "/api/settings", `{"auth": {"password_policy": {"min_length": 1000}}}`},
		{"PUT", "/api/settings", `{"auth": {"nope": true}}`},
		{"PUT", "/api/roles/Bad%20Name", `{"permissions": []}`},
		{"POST", "/api/tokens", `{"name": "` + long[:200] + `"}`},
		{"GET", "/api/users?limit=-1", ""},
		{"GET", "/api/audit?limit=abc", ""},
	} {
		res := e.call(t, "tenant-a", c.method, c.path, admin, c.body)
		if res.Status < 400 || res.Status >= 500 || res.Error.Code == "" || res.Error.Message == "" {
			t.Errorf("%s %s %.60q: %d %v", c.method, c.path, c.body, res.Status, res.Raw)
		}
	}
	users := e.call(t, "tenant-a", "GET", "/api/users", admin, "")
	if users.Raw["meta"].(map[string]any)["total"] != float64(1) {
		t.Fatalf("bad input wrote users: %v", users.Raw)
	}
	// A name with markup is data, returned as JSON text, never interpreted.
	res := e.call(t, "tenant-a", "POST", "/api/users", admin, `{"email": "m@example.com", "password": "long password", "first_name": "<b>Bold</b>"}`)
	wantStatus(t, res, 201, "")
	if res.Data["first_name"] != "<b>Bold</b>" {
		t.Fatalf("name: %v", res.Data)
	}
}

func decodeSegment(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	b, err := jwtEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &m) != nil {
		t.Fatalf("segment %q: %v", s, err)
	}
	return m
}

func encodeSegment(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return jwtEncoding.EncodeToString(b)
}

var jwtEncoding = base64.RawURLEncoding

func signClaims(t *testing.T, key []byte, claims map[string]any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/admin"
	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/hrana"
)

// bravo is what tenant B owns that no request of anyone else may reach.
type bravo struct {
	ids     []string // values to put in path parameters
	secrets []string // strings that must never appear in another's answer
	adminID string
}

// TestIsolation provisions tenants A and B with users, API tokens,
// invitations, custom roles, settings and a domain, then walks every
// registered route (so a route added later is covered without editing this
// test) and asks for B's objects by every means a request has: B's ids,
// names and tokens in the path; A's credentials on A's host and on B's;
// tokens with a forged or altered tid, expired, or signed by another
// secret; platform and impersonation tokens; X-Tenant-ID set to B. No
// answer may carry anything of B, none may be a 5xx, and B's data must be
// exactly as it was.
func TestIsolation(t *testing.T) {
	// The node serves its catalog too: no credential of a tenant's, nor
	// a platform admin's, opens it (only the catalog token does).
	e := newIdentity(t, api.Config{IPLoginBurst: 1 << 20, Signup: true,
		Catalog: api.CatalogEndpoint{Token: "the catalog token of this test", Streams: hrana.New(nil, hrana.Config{})}})
	ctx := context.Background()
	b := seedBravo(t, e)
	aAdmin := e.AdminToken(t, "tenant-a")
	aToken := e.Call(t, "tenant-a", "POST", "/api/tokens", aAdmin, `{"name": "alpha all"}`).Data["token"].(string)
	platform := apitest.Do(t, e.Srv, "POST", "localhost", "/platform/auth/login", strings.NewReader(`{"email": "`+apitest.AdminEmail+`", "password": "`+apitest.AdminPassword+`"}`)).Raw["token"].(string)
	imp := e.Call(t, "localhost", "POST", "/platform/tenants/tenant-a/impersonate", platform, `{"reason": "isolation test"}`).Data["token"].(string)
	claims := decodeSegment(t, strings.Split(aAdmin, ".")[1])
	claims["tid"] = "tenant-b"
	parts := strings.Split(aAdmin, ".")
	altered := parts[0] + "." + encodeSegment(t, claims) + "." + parts[2]
	otherSecret := signClaims(t, []byte("another secret, 32 bytes long!!!"), claims)
	bClaims := map[string]any{"sub": b.adminID, "tid": "tenant-b", "role": "admin", "sid": "x", "aud": "condo-tenant",
		"iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix()}
	expired := signClaims(t, apitest.Secret, bClaims)
	before := snapshotBravo(t, e)

	// Attempts on B's host: every one must be refused with 401.
	onB := map[string]string{
		"A's JWT": aAdmin, "A's API token": aToken, "tid altered": altered, "other secret": otherSecret,
		"expired B token": expired, "platform token": platform, "A impersonation": imp,
	}
	for _, r := range e.routes() {
		if r.Path == "/healthz" || r.Path == "/readyz" {
			continue
		}
		for _, id := range paramValues(pinTenant(r.Path), b.ids) {
			path := fill(pinTenant(r.Path), id)
			for name, tok := range onB {
				if name == "platform token" && strings.HasPrefix(r.Path, "/platform/") {
					continue // a platform admin may manage tenant B: that is the platform's job
				}
				res := e.walkCall(t, "tenant-b", r.Method, path, tok)
				if isAdminPage(r.Path) { // the HTML admin: B's sign-in page, or a refusal, never B's data
					if res.Status >= 500 || !adminSignedOut(r.Path) && !adminRefused(res) {
						t.Errorf("%s %s on B with %s: %d %s, want the sign-in page or a 4xx", r.Method, path, name, res.Status, res.Header.Get("Location"))
					}
					// B's own pages name B (its public GET /api/tenant).
					b.noLeak(t, res, path+" Secret Bravo", r.Method+" "+path+" on B with "+name)
					continue
				}
				if r.Path == api.MetricsPath { // the fleet's figures: not on a tenant's host at all
					if res.Status != http.StatusNotFound {
						t.Errorf("%s %s on B with %s: %d, want 404", r.Method, path, name, res.Status)
					}
					b.noLeak(t, res, path, r.Method+" "+path+" on B with "+name)
					continue
				}
				if res.Status != http.StatusUnauthorized && !(publicPlatformRoute(r.Path) && res.Status < 500) {
					t.Errorf("%s %s on B with %s: %d, want 401", r.Method, path, name, res.Status)
				}
				b.noLeak(t, res, path, r.Method+" "+path+" on B with "+name)
			}
		}
	}

	// Attempts on A's host with A's own credentials (and anonymous), naming
	// B's objects: 4xx, never B's data.
	var fresh string
	for _, r := range e.routes() {
		if upsert(r) {
			continue // acts on A's own name space; B's snapshot below covers it
		}
		for _, id := range paramValues(pinTenant(r.Path), b.ids) {
			path := fill(pinTenant(r.Path), id)
			// Logout routes (and a few others) spend the session: sign in
			// again only then, as bcrypt makes each login cost.
			if fresh == "" || e.Call(t, "tenant-a", "GET", "/auth/me", fresh, "").Status != http.StatusOK {
				fresh, _ = e.Login(t, "tenant-a", "admin@example.com", apitest.AdminPass+"tenant-a")
			}
			for name, c := range map[string]struct{ tok, hdr string }{
				"A's JWT": {fresh, ""}, "A's JWT, X-Tenant-ID B": {fresh, "tenant-b"}, "A's API token": {aToken, ""},
				"A impersonation": {imp, ""}, "anonymous, X-Tenant-ID B": {"", "tenant-b"},
			} {
				var hdr []string
				if c.hdr != "" {
					hdr = []string{"X-Tenant-ID", c.hdr}
				}
				res := e.walkCall(t, "tenant-a", r.Method, path+"?tenant=tenant-b&tid=tenant-b", c.tok, hdr...)
				where := r.Method + " " + path + " on A with " + name
				if res.Status >= 500 {
					t.Errorf("%s: %d %v", where, res.Status, res.Raw)
				}
				if isAdminPage(r.Path) && strings.Contains(r.Path, ":") && !adminRefused(res) {
					t.Errorf("%s: %d, want a refusal", where, res.Status)
					continue
				}
				if !isAdminPage(r.Path) && (strings.Contains(r.Path, ":") || strings.HasPrefix(r.Path, api.TenantPathPrefix)) && res.Status < 300 {
					t.Errorf("%s: %d, want a refusal", where, res.Status)
				}
				b.noLeak(t, res, path, where)
			}
		}
	}

	if after := snapshotBravo(t, e); after != before {
		t.Errorf("tenant B changed:\nbefore %s\nafter  %s", before, after)
	}
	if _, err := e.Catalog.Tenant(ctx, "tenant-b"); err != nil {
		t.Fatal(err)
	}
}

// walkCall is Call without a body for the walks over every route: an
// answer that is not JSON (GET /v2 is text) comes back with its text in
// Raw["text"], where noLeak reads it too.
//
// The HTML admin's pages take their credential the way a browser sends
// it: the token as the session cookie, with a matching CSRF cookie and
// header so that a write reaches its handler.
func (e *idEnv) walkCall(t *testing.T, tenant, method, path, token string, header ...string) apitest.Response {
	t.Helper()
	if isAdminPage(path) {
		cookie := "condo_admin"
		if strings.HasPrefix(path, admin.ConsolePath) {
			cookie = "condo_console"
		}
		header = append(header, "Cookie", cookie+"="+token+"; condo_csrf=walk-csrf-token", "X-CSRF-Token", "walk-csrf-token")
		token = ""
	}
	res, body := apitest.Send(t, e.Srv.URL, method, tenant+".localhost", path, token, header...)
	r := apitest.Response{Status: res.StatusCode, Header: res.Header}
	if len(body) > 0 {
		if json.Unmarshal(body, &r.Raw) != nil {
			r.Raw = map[string]any{"text": string(body)}
		} else {
			json.Unmarshal(body, &r)
		}
	}
	return r
}

// publicPlatformRoute reports the platform routes anyone may call (signing
// in, self-service sign-up): they take no credential, so a foreign one is
// not refused, only ignored; they must still carry none of B's data.
func publicPlatformRoute(path string) bool {
	return path == "/platform/auth/login" || path == "/platform/signup" || strings.HasPrefix(path, "/platform/signup/")
}

// isAdminPage reports paths of the HTML admin (package admin), whose
// answers are pages: a refusal there is a redirect to the sign-in page or
// a 4xx page, not a JSON 401.
func isAdminPage(path string) bool {
	for _, base := range []string{admin.TenantPath, admin.ConsolePath} {
		if path == base || strings.HasPrefix(path, base+"/") {
			return true
		}
	}
	return false
}

// adminSignedOut reports the admin's paths anyone may load: its assets,
// the brand stylesheet (the tenant's public branding), and the pages of a
// visitor who is not signed in (sign in, recover a password, accept an
// invitation, sign up, the hand-overs from the console). They must still
// carry none of B's data.
func adminSignedOut(path string) bool {
	if strings.HasPrefix(path, admin.AssetsPath+"/") || path == admin.TenantPath+"/brand.css" {
		return true
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(path, admin.ConsolePath), admin.TenantPath)
	first, _, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	switch first {
	case "login", "logout", "forgot", "reset", "invitations", "signup", "impersonate", "welcome":
		return true
	}
	return false
}

// adminRefused reports an admin answer that gives nothing: the sign-in
// page (a redirect to it, or the page itself, which shows no data) or a
// 4xx.
func adminRefused(res apitest.Response) bool {
	if res.Status == http.StatusOK && strings.Contains(fmt.Sprint(res.Raw["text"]), `action="/admin/login"`) ||
		strings.Contains(fmt.Sprint(res.Raw["text"]), `action="/platform/admin/login"`) {
		return true
	}
	if res.Status >= 300 && res.Status < 400 {
		return strings.Contains(res.Header.Get("Location"), "/login")
	}
	return res.Status >= 400 && res.Status < 500
}

// routes lists the server's routes, once each.
func (e *idEnv) routes() []struct{ Method, Path string } {
	var out []struct{ Method, Path string }
	for _, r := range e.API.Routes() {
		if r.Method == "echo_route_not_found" {
			continue
		}
		out = append(out, struct{ Method, Path string }{r.Method, r.Path})
	}
	return out
}

// upsert reports routes that create what they name in the caller's own
// tenant (PUT /api/roles/:name makes A a role of that name).
func upsert(r struct{ Method, Path string }) bool {
	return r.Path == "/api/roles/:name" && r.Method == http.MethodPut
}

// pinTenant names tenant B in a route that takes its tenant from the
// path (/_condo/tenants/:tenant/...), whatever the host: the path is
// B's, and A's credentials on it must be refused as on B's host.
func pinTenant(path string) string {
	return strings.Replace(path, "/:tenant/", "/tenant-b/", 1)
}

// paramValues is what to try in a route's parameters: each of B's values,
// or the path as it is when it has none.
func paramValues(path string, ids []string) []string {
	if !strings.Contains(path, ":") && !strings.Contains(path, "*") {
		return []string{""}
	}
	return ids
}

// noLeak fails when an answer carries any of B's secrets, other than one
// the request itself sent in its path (an error may quote that back).
func (b *bravo) noLeak(t *testing.T, res apitest.Response, path, where string) {
	t.Helper()
	body, _ := json.Marshal(res.Raw)
	for _, s := range b.secrets {
		if strings.Contains(string(body), s) && !strings.Contains(path, s) {
			t.Errorf("%s leaked %q: %s", where, s, body)
		}
	}
	if id, ok := res.Data["id"]; ok && id == "tenant-b" {
		t.Errorf("%s answered for tenant B: %s", where, body)
	}
}

// seedBravo gives tenant B one of everything.
func seedBravo(t *testing.T, e *idEnv) *bravo {
	ctx := context.Background()
	name, branding := "Secret Bravo", json.RawMessage(`{"tagline": "bravo-branding-marker"}`)
	if _, err := e.Catalog.UpdateTenant(ctx, "tenant-b", catalog.TenantUpdate{Name: &name, Branding: branding}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Catalog.AddDomain(ctx, "tenant-b", "bravo.example.com", true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	admin := e.AdminToken(t, "tenant-b")
	editorID := e.User(t, "tenant-b", "bravo-editor@bravo.example", auth.RoleEditor, "bravo editor password")
	must := func(res apitest.Response, status int) map[string]any {
		t.Helper()
		apitest.WantStatus(t, res, status, "")
		return res.Data
	}
	tok := must(e.Call(t, "tenant-b", "POST", "/api/tokens", admin, `{"name": "bravo-token-name"}`), 201)
	inv := must(e.Call(t, "tenant-b", "POST", "/api/invitations", admin, `{"email": "bravo-invitee@bravo.example", "role": "author"}`), 201)
	invToken := secretIn(t, e.Mail(t, "bravo-invitee@bravo.example"), "/auth/invitations/")
	must(e.Call(t, "tenant-b", "PUT", "/api/roles/bravo-role", admin, `{"description": "bravo-role-marker", "permissions": ["content.read"]}`), 200)
	must(e.Call(t, "tenant-b", "PUT", "/api/settings", admin, `{"general": {"note": "bravo-settings-marker"}}`), 200)
	me := must(e.Call(t, "tenant-b", "GET", "/auth/me", admin, ""), 200)
	adminID := me["user"].(map[string]any)["id"].(string)
	media := must(e.uploadMedia(t, "tenant-b", admin, field("alt", "bravo-media-alt"), filePart("bravo-media.png", pngBytes(t, 1, 1))), 201)
	t.Cleanup(func() { // B's media, row and file, outlived the walk
		got := must(e.Call(t, "tenant-b", "GET", "/api/media/"+media["id"].(string), e.AdminToken(t, "tenant-b"), ""), 200)
		if got["alt"] != media["alt"] || got["updated_at"] != media["updated_at"] {
			t.Errorf("B's media changed: %v", got)
		}
		if res, _ := e.Fetch(t, "tenant-b", "GET", media["url"].(string)); res.StatusCode != http.StatusOK {
			t.Errorf("B's media file: %d", res.StatusCode)
		}
	})
	// A webhook, so B's writes below leave deliveries in its outbox.
	hook := must(e.Call(t, "tenant-b", "POST", "/api/webhooks", admin,
		`{"url": "https://bravo-hook.example.com/bravo-webhook-marker", "events": ["*"], "description": "bravo-webhook-description"}`), 201)
	// Content: a private collection with a draft and a published item, and
	// a public one, names and slugs chosen to be tried on A.
	must(e.Call(t, "tenant-b", "POST", "/api/collections", admin, `{"name": "bravo_private", "display_name": "bravo-collection-marker",
		"schema": {"type": "object", "properties": {"secret": {"type": "string"}}}}`), 201)
	must(e.Call(t, "tenant-b", "POST", "/api/collections", admin, `{"name": "posts", "public": true}`), 201)
	draft := must(e.Call(t, "tenant-b", "POST", "/api/collections/bravo_private/content", admin,
		`{"title": "bravo-draft-marker", "slug": "bravo-draft", "data": {"secret": "bravo-data-marker"}}`), 201)
	pub := must(e.Call(t, "tenant-b", "POST", "/api/collections/posts/content", admin,
		`{"title": "bravo-published-marker", "slug": "shared-slug", "status": "published"}`), 201)
	e.Call(t, "tenant-b", "DELETE", "/api/content/"+must(e.Call(t, "tenant-b", "POST", "/api/collections/posts/content", admin,
		`{"title": "bravo-trashed-marker"}`), 201)["id"].(string), admin, "")
	// Plugins: B runs the forms plugin with a form of its own, and took
	// one submission; A runs none, so B's form name on A is a 404.
	must(e.Call(t, "tenant-b", "PUT", "/api/plugins/forms", admin,
		`{"enabled": true, "settings": {"forms": [{"name": "bravo-contact", "collection": "bravo_private"}]}}`), 200)
	if res := e.Call(t, "tenant-b", "POST", "/api/plugins/forms/bravo-contact", "", `{"secret": "bravo-form-marker"}`); res.Status != http.StatusAccepted {
		t.Fatalf("B's form: %d %v", res.Status, res.Raw)
	}
	var deliveries []any
	if res := e.Call(t, "tenant-b", "GET", "/api/webhooks/"+hook["id"].(string)+"/deliveries", admin, ""); res.Status == 200 {
		deliveries, _ = res.Raw["data"].([]any)
	}
	if len(deliveries) == 0 {
		t.Fatal("B's webhook has no deliveries")
	}
	delivery := deliveries[0].(map[string]any)
	// A has a public collection of the same name, so "posts" reaches A's.
	must(e.Call(t, "tenant-a", "POST", "/api/collections", e.AdminToken(t, "tenant-a"), `{"name": "posts", "public": true}`), 201)
	return &bravo{
		adminID: adminID,
		ids: []string{adminID, editorID, tok["id"].(string), inv["id"].(string), invToken, tok["token"].(string), "bravo-role", "tenant-b", "bravo.example.com",
			media["id"].(string), "bravo-media.png", draft["id"].(string), pub["id"].(string), "bravo-draft", "shared-slug", "bravo_private", "1", "bravo-contact",
			hook["id"].(string), delivery["id"].(string), delivery["event_id"].(string)},
		secrets: []string{"Secret Bravo", "bravo-branding-marker", "bravo.example.com", "bravo-editor@bravo.example", editorID, adminID,
			tok["id"].(string), tok["token"].(string), "bravo-token-name", inv["id"].(string), "bravo-invitee", "bravo-role-marker", "bravo-settings-marker",
			media["id"].(string), "bravo-media-alt", "bravo-media.png", media["sha256"].(string),
			draft["id"].(string), pub["id"].(string), "bravo-collection-marker", "bravo-draft-marker", "bravo-data-marker",
			"bravo-published-marker", "bravo-trashed-marker", "bravo_private", "bravo-contact", "bravo-form-marker",
			hook["id"].(string), hook["secret"].(string), "bravo-webhook-marker", "bravo-webhook-description", delivery["id"].(string), delivery["event_id"].(string)},
	}
}

// snapshotBravo describes tenant B's identity data, to compare.
func snapshotBravo(t *testing.T, e *idEnv) string {
	var out []string
	e.AuthStore(t, "tenant-b", func(st *auth.Store) {
		ctx := context.Background()
		for _, q := range []string{
			"SELECT group_concat(id || role || is_active || password_hash, ',') FROM (SELECT * FROM users ORDER BY id)",
			"SELECT group_concat(id || name || permissions, ',') FROM (SELECT * FROM api_tokens ORDER BY id)",
			"SELECT group_concat(name || permissions, ',') FROM (SELECT * FROM roles ORDER BY name)",
			"SELECT group_concat(key || value, ',') FROM (SELECT * FROM settings ORDER BY key)",
			"SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL",
			"SELECT group_concat(id || status || version || coalesce(deleted_at, '') || data, ',') FROM (SELECT * FROM content ORDER BY id)",
			"SELECT group_concat(name || schema || is_public, ',') FROM (SELECT * FROM collections ORDER BY name)",
			"SELECT count(*) FROM content_versions",
			"SELECT group_concat(name || enabled || settings, ',') FROM (SELECT * FROM plugins ORDER BY name)",
			"SELECT group_concat(id || url || events || secret || active, ',') FROM (SELECT * FROM webhooks ORDER BY id)",
			"SELECT group_concat(id || state || attempts || next_at, ',') FROM (SELECT * FROM webhook_deliveries ORDER BY id)",
		} {
			var v any
			if err := st.DB.Reader().QueryRowContext(ctx, q).Scan(&v); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(v))
		}
	})
	inv, err := e.Catalog.PendingInvitations(context.Background(), "tenant-b")
	if err != nil {
		t.Fatal(err)
	}
	ten, err := e.Catalog.Tenant(context.Background(), "tenant-b")
	if err != nil {
		t.Fatal(err)
	}
	doms := []string{}
	for _, d := range ten.Domains {
		doms = append(doms, d.Domain)
	}
	slices.Sort(doms)
	out = append(out, fmt.Sprint(len(inv)), ten.Name, ten.Status, string(ten.Branding), strings.Join(doms, ","))
	return strings.Join(out, " | ")
}

// fill replaces every path parameter with value.
func fill(path, value string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || p == "*" {
			parts[i] = value
		}
	}
	return strings.Join(parts, "/")
}

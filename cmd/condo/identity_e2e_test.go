package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// sendJSON sends a request with a JSON body (nil: none) to the server,
// with host as its Host and token, if any, as its bearer credential, and
// decodes the JSON answer (nil for an empty one).
func (s *server) sendJSON(t *testing.T, method, host, path, token string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+s.addr+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s%s: %d %q: %v", method, host, path, res.StatusCode, b, err)
		}
	}
	return res.StatusCode, out, res.Header
}

// jsonStr digs a string out of decoded JSON: jsonStr(body, "data", "user", "id").
func jsonStr(v any, keys ...string) string {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// The first run of a fresh install, end to end: the generated password
// signs in on the default tenant and the platform, and then an admin
// makes an API token and invites a user, who accepts by the link in the
// outbox. No secret handed out on the way reaches the server's log.
func TestIdentity_FirstRun(t *testing.T) {
	data := t.TempDir()
	srv := startServer(t, data, "CONDO_ADMIN_EMAIL=", "CONDO_ADMIN_PASSWORD=")
	var secrets []string // everything that must stay out of the log
	keep := func(what, s string) string {
		t.Helper()
		if len(s) < 16 {
			t.Fatalf("%s = %q, want a secret", what, s)
		}
		secrets = append(secrets, s)
		return s
	}

	// The password is printed once, on stdout.
	var email, password string
	eventually(t, func() bool {
		m := regexp.MustCompile(`Admin \(platform and tenant default\): (\S+)\n\s+Password: (\S+)`).FindStringSubmatch(srv.stdout.String())
		if m != nil {
			email, password = m[1], keep("generated password", m[2])
		}
		return m != nil
	})
	if email != "admin@localhost" {
		t.Errorf("admin email = %q, want admin@localhost", email)
	}
	if n := strings.Count(srv.stdout.String(), password); n != 1 {
		t.Errorf("the password is printed %d times, want once", n)
	}
	creds := map[string]string{"email": email, "password": password}

	// The same credentials sign in on the default tenant...
	code, login, _ := srv.sendJSON(t, "POST", "default.localhost", "/auth/login", "", creds)
	if code != 200 || jsonStr(login, "token_type") != "Bearer" || jsonStr(login, "user", "role") != "admin" || jsonStr(login, "user", "email") != email {
		t.Fatalf("tenant login: %d %v", code, login)
	}
	access := keep("access token", jsonStr(login, "token"))
	refresh := keep("refresh token", jsonStr(login, "refresh_token"))
	// ...and on the platform, with a token of another audience.
	code, plogin, _ := srv.sendJSON(t, "POST", "localhost", "/platform/auth/login", "", creds)
	if code != 200 || jsonStr(plogin, "admin", "email") != email {
		t.Fatalf("platform login: %d %v", code, plogin)
	}
	platform := keep("platform token", jsonStr(plogin, "token"))
	if code, _, _ := srv.sendJSON(t, "GET", "localhost", "/platform/tenants", platform, nil); code != 200 {
		t.Errorf("platform token on the platform: %d", code)
	}
	if code, _, _ := srv.sendJSON(t, "GET", "localhost", "/platform/tenants", access, nil); code != 401 {
		t.Errorf("tenant token on the platform: %d, want 401", code)
	}
	if code, _, _ := srv.sendJSON(t, "GET", "default.localhost", "/auth/me", platform, nil); code != 401 {
		t.Errorf("platform token on the tenant: %d, want 401", code)
	}

	code, me, _ := srv.sendJSON(t, "GET", "default.localhost", "/auth/me", access, nil)
	if code != 200 || jsonStr(me, "data", "kind") != "user" || jsonStr(me, "data", "role") != "admin" || jsonStr(me, "data", "user", "email") != email {
		t.Fatalf("GET /auth/me: %d %v", code, me)
	}
	if perms := me["data"].(map[string]any)["permissions"].([]any); len(perms) != 24 {
		t.Errorf("an admin's permissions = %v, want all 24", perms)
	}

	// Refresh rotates the refresh token; the spent one is refused.
	code, ref, _ := srv.sendJSON(t, "POST", "default.localhost", "/auth/refresh", "", map[string]string{"refresh_token": refresh})
	if code != 200 {
		t.Fatalf("refresh: %d %v", code, ref)
	}
	access = keep("refreshed access token", jsonStr(ref, "token"))
	if next := keep("rotated refresh token", jsonStr(ref, "refresh_token")); next == refresh {
		t.Errorf("refresh did not rotate the refresh token")
	}

	// An API token, shown once, works in place of a session.
	code, tok, _ := srv.sendJSON(t, "POST", "default.localhost", "/api/tokens", access, map[string]any{"name": "ci", "read_only": true})
	if code != 201 {
		t.Fatalf("POST /api/tokens: %d %v", code, tok)
	}
	apiToken := keep("API token", jsonStr(tok, "data", "token"))
	if !strings.HasPrefix(apiToken, "condo_default_") {
		t.Errorf("API token %q does not name its tenant", apiToken)
	}
	code, me, _ = srv.sendJSON(t, "GET", "default.localhost", "/auth/me", apiToken, nil)
	if code != 200 || jsonStr(me, "data", "kind") != "api_token" || jsonStr(me, "data", "token_id") != jsonStr(tok, "data", "id") {
		t.Errorf("GET /auth/me with the API token: %d %v", code, me)
	}
	code, users, _ := srv.sendJSON(t, "GET", "default.localhost", "/api/users", apiToken, nil)
	if code != 200 || len(users["data"].([]any)) != 1 {
		t.Errorf("GET /api/users with the API token: %d %v", code, users)
	}
	code, list, _ := srv.sendJSON(t, "GET", "default.localhost", "/api/tokens", access, nil)
	if code != 200 || strings.Contains(mustJSON(t, list), apiToken) {
		t.Errorf("GET /api/tokens: %d, or it shows the secret: %v", code, list)
	}
	// Read-only: it cannot add a user.
	if code, body, _ := srv.sendJSON(t, "POST", "default.localhost", "/api/users", apiToken,
		map[string]string{"email": "x@example.com", "password": "a long password"}); code != 403 {
		t.Errorf("a read-only token created a user: %d %v", code, body)
	}

	// Neither credential works on another tenant.
	if code, _, errOut := runCondo(t, nil, "", "tenants", "create", "acme", "--data", data); code != 0 {
		t.Fatalf("tenants create: %s", errOut)
	}
	eventually(t, func() bool { c, _ := srv.get(t, "acme.localhost", "/api/tenant"); return c == 200 })
	for name, cred := range map[string]string{"access token": access, "API token": apiToken} {
		if code, _, h := srv.sendJSON(t, "GET", "acme.localhost", "/auth/me", cred, nil); code != 401 || h.Get("WWW-Authenticate") == "" {
			t.Errorf("default's %s on acme: %d, want 401 with WWW-Authenticate", name, code)
		}
	}

	// An invitation: the token travels only by mail, here the outbox,
	// which an operator reads while the server runs.
	invitee := map[string]string{"email": "new@example.com", "password": "the invitee's own password"}
	keep("invitee's password", invitee["password"])
	code, inv, _ := srv.sendJSON(t, "POST", "default.localhost", "/api/invitations", access, map[string]string{"email": invitee["email"], "role": "editor"})
	if code != 201 || jsonStr(inv, "data", "email") != invitee["email"] || jsonStr(inv, "data", "role") != "editor" {
		t.Fatalf("POST /api/invitations: %d %v", code, inv)
	}
	code, out, errOut := runCondo(t, nil, "", "mail", "outbox", "--data", data, "--to", invitee["email"], "--json")
	if code != 0 {
		t.Fatalf("mail outbox: %d %s", code, errOut)
	}
	var outbox struct {
		Messages []struct {
			TenantID string `json:"tenant_id"`
			Body     string `json:"body"`
		} `json:"messages"`
	}
	if err := json.Unmarshal([]byte(out), &outbox); err != nil || len(outbox.Messages) != 1 || outbox.Messages[0].TenantID != "default" {
		t.Fatalf("outbox = %s (%v)", out, err)
	}
	m := regexp.MustCompile(`http://default\.localhost/auth/invitations/([a-z2-7]+)/accept`).FindStringSubmatch(outbox.Messages[0].Body)
	if m == nil {
		t.Fatalf("no invitation link in %q", outbox.Messages[0].Body)
	}
	invToken := keep("invitation token", m[1])
	if code, pending, _ := srv.sendJSON(t, "GET", "default.localhost", "/api/invitations", access, nil); code != 200 || strings.Contains(mustJSON(t, pending), invToken) {
		t.Errorf("GET /api/invitations: %d, or it shows the token", code)
	}

	// The token is scoped to its tenant: acme does not know it.
	accept := "/auth/invitations/" + invToken + "/accept"
	body := map[string]string{"password": invitee["password"], "first_name": "New"}
	if code, _, _ := srv.sendJSON(t, "POST", "acme.localhost", accept, "", body); code != 404 {
		t.Errorf("default's invitation accepted on acme: %d, want 404", code)
	}
	code, acc, _ := srv.sendJSON(t, "POST", "default.localhost", accept, "", body)
	if code != 201 || jsonStr(acc, "user", "email") != invitee["email"] || jsonStr(acc, "user", "role") != "editor" {
		t.Fatalf("accept: %d %v", code, acc)
	}
	keep("invitee's access token", jsonStr(acc, "token"))
	keep("invitee's refresh token", jsonStr(acc, "refresh_token"))
	if code, _, _ := srv.sendJSON(t, "POST", "default.localhost", accept, "", body); code != 404 {
		t.Errorf("an invitation accepted twice: %d, want 404", code)
	}

	// The new user signs in with the password they chose.
	code, login, _ = srv.sendJSON(t, "POST", "default.localhost", "/auth/login", "", invitee)
	if code != 200 {
		t.Fatalf("invitee login: %d %v", code, login)
	}
	code, me, _ = srv.sendJSON(t, "GET", "default.localhost", "/auth/me", keep("invitee's login token", jsonStr(login, "token")), nil)
	if code != 200 || jsonStr(me, "data", "role") != "editor" || jsonStr(me, "data", "user", "first_name") != "New" {
		t.Errorf("invitee's /auth/me: %d %v", code, me)
	}
	keep("invitee's login refresh token", jsonStr(login, "refresh_token"))

	// Stop the server so every log line is written, then read them all.
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	logs := srv.logs.String()
	if !strings.Contains(logs, "path=/auth/invitations/REDACTED/accept") {
		t.Errorf("the access log has no redacted invitation path:\n%s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the server's log contains a secret %.12s...", s)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// madeToken is a token as `condo tokens create --json` prints it.
type madeToken struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Prefix      string     `json:"prefix"`
	Operator    bool       `json:"operator"`
	Permissions []string   `json:"permissions"`
	ExpiresAt   *time.Time `json:"expires_at"`
	Token       string     `json:"token"`
}

func mustCreateToken(t *testing.T, data, id string, args ...string) madeToken {
	t.Helper()
	code, out, errOut := run(t, "", append([]string{"tokens", "create", id, "--data", data, "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("tokens create: %d %s", code, errOut)
	}
	var tok madeToken
	if err := json.Unmarshal([]byte(out), &tok); err != nil {
		t.Fatalf("tokens create --json = %q: %v", out, err)
	}
	return tok
}

func TestTokens(t *testing.T) {
	data := t.TempDir()
	mustCreateTenant(t, data, "acme")

	w := mustCreateToken(t, data, "acme", "--sql", "write", "--expires", "30d", "--name", "deploy")
	if !strings.HasPrefix(w.Token, "condo_acme_") || !strings.HasPrefix(w.Token, w.Prefix) || !w.Operator || w.Name != "deploy" {
		t.Errorf("token = %+v", w)
	}
	if got := strings.Join(w.Permissions, ","); got != "sql.read,sql.write" {
		t.Errorf("permissions = %s, want sql.read,sql.write", got)
	}
	if w.ExpiresAt == nil || time.Until(*w.ExpiresAt) < 29*24*time.Hour || time.Until(*w.ExpiresAt) > 31*24*time.Hour {
		t.Errorf("expires_at = %v, want in 30 days", w.ExpiresAt)
	}

	// Text: the secret alone on the last line.
	code, out, errOut := run(t, "", "tokens", "create", "acme", "--sql", "read", "--data", data)
	if code != 0 {
		t.Fatalf("tokens create: %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "sql.read") || strings.Contains(lines[0], "sql.write") || !strings.HasPrefix(lines[1], "condo_acme_") {
		t.Errorf("output = %q", out)
	}
	readSecret := lines[1]

	code, out, errOut = run(t, "", "tokens", "list", "acme", "--data", data, "--json")
	if code != 0 {
		t.Fatalf("tokens list: %d %s", code, errOut)
	}
	var list []madeToken
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || strings.Contains(out, w.Token) || strings.Contains(out, readSecret) || strings.Contains(out, "hash") {
		t.Errorf("list = %s", out)
	}
	code, out, _ = run(t, "", "tokens", "list", "acme", "--data", data)
	if code != 0 || !strings.Contains(out, w.ID) || !strings.Contains(out, "deploy") || strings.Contains(out, w.Token) {
		t.Errorf("list = %d %q", code, out)
	}

	if code, out, errOut := run(t, "", "tokens", "revoke", "acme", w.ID, "--data", data); code != 0 || !strings.Contains(out, "revoked token "+w.ID) {
		t.Errorf("revoke: %d %q %s", code, out, errOut)
	}
	code, out, _ = run(t, "", "tokens", "list", "acme", "--data", data, "--json")
	if code != 0 || strings.Contains(out, w.ID) {
		t.Errorf("after revoke: %d %s", code, out)
	}

	for _, c := range []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"UnknownTenant", []string{"tokens", "create", "nobody", "--sql", "read"}, 1, `tenant "nobody" not found`},
		{"BadSQL", []string{"tokens", "create", "acme", "--sql", "admin"}, 2, "--sql is read, write or owner"},
		{"NoSQL", []string{"tokens", "create", "acme"}, 2, "--sql is read, write or owner"},
		{"BadExpiry", []string{"tokens", "create", "acme", "--sql", "read", "--expires", "soon"}, 2, "not a duration"},
		{"NegativeExpiry", []string{"tokens", "create", "acme", "--sql", "read", "--expires", "-1h"}, 2, "not a positive duration"},
		{"RevokeUnknown", []string{"tokens", "revoke", "acme", "nope"}, 1, "not found"},
		{"ListUnknownTenant", []string{"tokens", "list", "nobody"}, 1, "not found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := run(t, "", append(c.args, "--data", data)...)
			wantOneLineError(t, code, c.wantCode, errOut, c.want)
		})
	}
}

// A token made while serve runs works on the server at once.
func TestTokens_WhileServing(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	tok := mustCreateToken(t, data, "default", "--sql", "read")
	code, body, _ := s.sendJSON(t, "GET", "default.localhost", "/auth/me", tok.Token, nil)
	if code != 200 {
		t.Fatalf("GET /auth/me with the token: %d %v", code, body)
	}
	me := body["data"].(map[string]any)
	if me["kind"] != "api_token" || me["role"] != "operator" || me["token_id"] != tok.ID {
		t.Errorf("me = %v", me)
	}
	// It carries SQL only: the REST API's other routes refuse it.
	if code, body, _ := s.sendJSON(t, "GET", "default.localhost", "/api/users", tok.Token, nil); code != 403 {
		t.Errorf("GET /api/users with a sql.read token: %d %v", code, body)
	}
	code, out, errOut := run(t, "", "tokens", "list", "default", "--data", data)
	if code != 0 || !strings.Contains(out, tok.ID) || !strings.Contains(out, "used ") {
		t.Errorf("list while serving: %d %q %s", code, out, errOut)
	}
	// The shell too opens the file beside the server.
	code, out, errOut = run(t, "", "shell", "default", "INSERT INTO collections (id, name, display_name, is_public, created_at, updated_at) VALUES ('c', 'notes', 'Notes', 1, 0, 0)", "--data", data)
	if code != 0 || !strings.Contains(out, "1 row changed") {
		t.Errorf("shell while serving: %d %q %s", code, out, errOut)
	}
	if code, body := s.get(t, "default.localhost", "/api/collections/notes"); code != 200 {
		t.Errorf("the shell's collection on the server: %d %v", code, body)
	}
	// Revoked, it stops at once.
	if code, _, errOut := run(t, "", "tokens", "revoke", "default", tok.ID, "--data", data); code != 0 {
		t.Fatalf("revoke: %d %s", code, errOut)
	}
	if code, body, _ := s.sendJSON(t, "GET", "default.localhost", "/auth/me", tok.Token, nil); code != 401 {
		t.Errorf("GET /auth/me with a revoked token: %d %v", code, body)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condohq/condo/auth"
)

const userPassword = "correct horse battery"

// mustCreateTenant creates a tenant with the CLI, and the catalog first
// if there is none.
func mustCreateTenant(t *testing.T, data, id string) {
	t.Helper()
	mustCatalog(t, data)
	if code, _, errOut := run(t, "", "tenants", "create", id, "--data", data); code != 0 {
		t.Fatalf("tenants create %s: %d %s", id, code, errOut)
	}
}

// listUsers returns a tenant's users as `condo users list --json` prints
// them.
func listUsers(t *testing.T, data, id string, args ...string) []auth.User {
	t.Helper()
	code, out, errOut := run(t, "", append([]string{"users", "list", id, "--data", data, "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("users list %s: %d %s", id, code, errOut)
	}
	var users []auth.User
	if err := json.Unmarshal([]byte(out), &users); err != nil {
		t.Fatalf("users list --json = %q: %v", out, err)
	}
	return users
}

// wantOneLineError checks a CLI failure: the exit status and a single
// "condo: " line that says why.
func wantOneLineError(t *testing.T, code, wantCode int, stderr, wantText string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("exit = %d, want %d (%s)", code, wantCode, stderr)
	}
	if lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "condo: ") {
		t.Errorf("stderr = %q, want one line starting with \"condo: \"", stderr)
	}
	if !strings.Contains(stderr, wantText) {
		t.Errorf("stderr = %q, want it to say %q", stderr, wantText)
	}
}

func TestUsers_CreateAndList(t *testing.T) {
	data := t.TempDir()
	mustCreateTenant(t, data, "acme")

	t.Run("PasswordFromEnv", func(t *testing.T) {
		t.Setenv("CONDO_PASSWORD", userPassword)
		code, out, errOut := run(t, "", "users", "create", "acme", "ann@example.com", "--role", "editor", "--data", data)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if got, want := out, "created editor ann@example.com in tenant acme\n"; got != want {
			t.Errorf("output = %q, want %q", got, want)
		}
	})
	t.Run("PasswordFromStdin", func(t *testing.T) {
		t.Setenv("CONDO_PASSWORD", "")
		// Flags before the arguments; the line ending is not part of the
		// password; the email is normalised.
		code, out, errOut := run(t, userPassword+"\r\n", "users", "create", "--data", data, "--json", "--role", "author", "acme", " Bob@Example.com ")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var u map[string]any
		if err := json.Unmarshal([]byte(out), &u); err != nil {
			t.Fatalf("--json output %q: %v", out, err)
		}
		if u["email"] != "bob@example.com" || u["role"] != "author" || u["is_active"] != true || u["id"] == "" {
			t.Errorf("created user = %v", u)
		}
		for k := range u {
			if strings.Contains(k, "password") || strings.Contains(k, "hash") {
				t.Errorf("--json output shows %q", k)
			}
		}
	})
	t.Run("DefaultRole", func(t *testing.T) {
		t.Setenv("CONDO_PASSWORD", userPassword)
		if code, out, errOut := run(t, "", "users", "create", "acme", "cy@example.com", "--data", data); code != 0 || !strings.Contains(out, "created viewer cy@example.com") {
			t.Fatalf("exit %d: %q %s", code, out, errOut)
		}
	})

	t.Run("ListHuman", func(t *testing.T) {
		code, out, errOut := run(t, "", "users", "list", "acme", "--data", data)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if got, want := lines[0], "3 users in acme"; got != want {
			t.Errorf("first line = %q, want %q", got, want)
		}
		if len(lines) != 4 {
			t.Fatalf("output = %q, want a header and three users", out)
		}
		for i, want := range []string{"ann@example.com", "bob@example.com", "cy@example.com"} { // by email
			if f := strings.Fields(lines[i+1]); len(f) != 3 || f[2] != want {
				t.Errorf("line %d = %q, want id, role and %s", i+1, lines[i+1], want)
			}
		}
	})
	t.Run("ListJSON", func(t *testing.T) {
		users := listUsers(t, data, "acme")
		got := map[string]string{}
		for _, u := range users {
			got[u.Email] = u.Role
			if u.ID == "" || !u.Active || u.CreatedAt.IsZero() {
				t.Errorf("user = %+v", u)
			}
		}
		want := map[string]string{"ann@example.com": "editor", "bob@example.com": "author", "cy@example.com": "viewer"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("users = %v, want %v", got, want)
		}
	})
	t.Run("ListQuery", func(t *testing.T) {
		users := listUsers(t, data, "acme", "--query", "BOB")
		if len(users) != 1 || users[0].Email != "bob@example.com" {
			t.Errorf("--query BOB = %+v", users)
		}
		if users := listUsers(t, data, "acme", "--query", "nobody"); len(users) != 0 {
			t.Errorf("--query nobody = %+v", users)
		}
		code, out, _ := run(t, "", "users", "list", "acme", "--query", "nobody", "--data", data)
		if code != 0 || strings.TrimSpace(out) != "0 users in acme" {
			t.Errorf("empty human list = %d %q", code, out)
		}
	})
	t.Run("ListEmptyTenant", func(t *testing.T) {
		mustCreateTenant(t, data, "empty")
		if users := listUsers(t, data, "empty"); users == nil || len(users) != 0 {
			t.Errorf("users of a new tenant = %v, want []", users)
		}
	})
	t.Run("ListErrors", func(t *testing.T) {
		code, _, errOut := run(t, "", "users", "list", "nobody", "--data", data)
		wantOneLineError(t, code, 1, errOut, "not found")
		code, _, errOut = run(t, "", "users", "list", "../acme", "--data", data)
		wantOneLineError(t, code, 1, errOut, "invalid tenant id")
		code, _, errOut = run(t, "", "users", "list", "--data", data)
		wantOneLineError(t, code, 2, errOut, "usage")
	})
}

func TestUsers_CreateErrors(t *testing.T) {
	data := t.TempDir()
	mustCreateTenant(t, data, "acme")
	t.Setenv("CONDO_PASSWORD", userPassword)
	if code, _, errOut := run(t, "", "users", "create", "acme", "ann@example.com", "--data", data); code != 0 {
		t.Fatalf("create: %s", errOut)
	}

	for _, tc := range []struct {
		name     string
		password string // CONDO_PASSWORD; stdin stays empty
		args     []string
		wantCode int
		wantText string
	}{
		{"BadTenantID", userPassword, []string{"../acme", "x@example.com"}, 1, "invalid tenant id"},
		{"UpperTenantID", userPassword, []string{"Acme", "x@example.com"}, 1, "invalid tenant id"},
		{"UnknownTenant", userPassword, []string{"nobody", "x@example.com"}, 1, `tenant "nobody" not found`},
		{"UnknownRole", userPassword, []string{"acme", "x@example.com", "--role", "owner"}, 1, `unknown role "owner"`},
		{"WeakPassword", "short", []string{"acme", "x@example.com"}, 1, "at least 10 characters"},
		{"DuplicateEmail", userPassword, []string{"acme", "ann@example.com"}, 1, "exists already"},
		{"DuplicateEmailOtherCase", userPassword, []string{"acme", "ANN@example.com"}, 1, "exists already"},
		{"BadEmail", userPassword, []string{"acme", "not-an-email"}, 1, "invalid email"},
		{"NoPassword", "", []string{"acme", "x@example.com"}, 2, "CONDO_PASSWORD"},
		{"MissingEmail", userPassword, []string{"acme"}, 2, "usage"},
		{"ExtraArgument", userPassword, []string{"acme", "x@example.com", "y@example.com"}, 2, "usage"},
		{"UnknownFlag", userPassword, []string{"acme", "x@example.com", "--admin"}, 2, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CONDO_PASSWORD", tc.password)
			code, out, errOut := run(t, "", append([]string{"users", "create", "--data", data}, tc.args...)...)
			wantOneLineError(t, code, tc.wantCode, errOut, tc.wantText)
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
		})
	}

	// Nothing was written: acme still has one user, and no other tenant
	// got a database.
	if users := listUsers(t, data, "acme"); len(users) != 1 || users[0].Email != "ann@example.com" {
		t.Errorf("users after failed creates = %+v, want only ann", users)
	}
	if entries, _ := os.ReadDir(filepath.Join(data, "tenants")); len(entries) != 1 || entries[0].Name() != "acme" {
		t.Errorf("tenant directories = %v, want only acme", entries)
	}

	t.Run("UserLimit", func(t *testing.T) {
		// The free plan allows 10 users: ann and nine more.
		for i := 2; i <= 10; i++ {
			if code, _, errOut := run(t, "", "users", "create", "acme", fmt.Sprintf("user%d@example.com", i), "--data", data); code != 0 {
				t.Fatalf("user %d: %s", i, errOut)
			}
		}
		code, out, errOut := run(t, "", "users", "create", "acme", "eleventh@example.com", "--data", data, "--json")
		wantOneLineError(t, code, 1, errOut, "plan allows 10 users")
		if out != "" {
			t.Errorf("stdout = %q, want nothing", out)
		}
		users := listUsers(t, data, "acme")
		if len(users) != 10 {
			t.Errorf("%d users, want 10", len(users))
		}
		for _, u := range users {
			if u.Email == "eleventh@example.com" {
				t.Errorf("the eleventh user was created")
			}
		}
	})
}

// runCondo runs the real binary with extra environment and stdin.
func runCondo(t *testing.T, env []string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(condoBin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("run condo %v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// A user created with the CLI while `condo serve` runs on the same data
// directory can log in over HTTP at once.
func TestUsers_CreateWhileServing(t *testing.T) {
	data := t.TempDir()
	srv := startServer(t, data, "CONDO_ADMIN_EMAIL=ops@example.com", "CONDO_ADMIN_PASSWORD=a long chosen password")

	// The bootstrap made the platform admin the default tenant's admin.
	code, out, errOut := runCondo(t, nil, "", "users", "list", "default", "--data", data, "--json")
	if code != 0 {
		t.Fatalf("users list beside the server: %d %s", code, errOut)
	}
	var users []auth.User
	if err := json.Unmarshal([]byte(out), &users); err != nil || len(users) != 1 || users[0].Email != "ops@example.com" || users[0].Role != auth.RoleAdmin {
		t.Fatalf("default tenant's users = %s (%v)", out, err)
	}

	// Password from the environment, in a separate process.
	code, out, errOut = runCondo(t, []string{"CONDO_PASSWORD=" + userPassword}, "", "users", "create", "default", "ed@example.com", "--role", "editor", "--data", data)
	if code != 0 || out != "created editor ed@example.com in tenant default\n" {
		t.Fatalf("users create beside the server: %d %q %s", code, out, errOut)
	}
	// Password on stdin, in a tenant created while serving.
	if code, _, errOut := runCondo(t, nil, "", "tenants", "create", "acme", "--data", data); code != 0 {
		t.Fatalf("tenants create: %s", errOut)
	}
	code, out, errOut = runCondo(t, []string{"CONDO_PASSWORD="}, userPassword+"\n", "users", "create", "acme", "ann@example.com", "--role", "admin", "--data", data, "--json")
	if code != 0 {
		t.Fatalf("users create from stdin: %d %s", code, errOut)
	}
	var ann auth.User
	if err := json.Unmarshal([]byte(out), &ann); err != nil || ann.Email != "ann@example.com" {
		t.Fatalf("--json output %q: %v", out, err)
	}

	login := func(host, email, password string) (int, map[string]any) {
		code, body, _ := srv.sendJSON(t, "POST", host, "/auth/login", "", map[string]string{"email": email, "password": password})
		return code, body
	}
	code, body := login("default.localhost", "ed@example.com", userPassword)
	if code != 200 {
		t.Fatalf("login as the CLI's user: %d %v", code, body)
	}
	tok, _ := body["token"].(string)
	if tok == "" || body["refresh_token"] == "" {
		t.Fatalf("login answer = %v", body)
	}
	if u, _ := body["user"].(map[string]any); u["email"] != "ed@example.com" || u["role"] != "editor" {
		t.Errorf("login user = %v", body["user"])
	}
	code, me, _ := srv.sendJSON(t, "GET", "default.localhost", "/auth/me", tok, nil)
	if d, _ := me["data"].(map[string]any); code != 200 || d["role"] != "editor" || d["kind"] != "user" {
		t.Errorf("GET /auth/me = %d %v", code, me)
	}

	// acme was created while serving: the server sees it within its
	// resolve TTL, and its CLI-created user logs in there only.
	eventually(t, func() bool { c, _ := login("acme.localhost", "ann@example.com", userPassword); return c == 200 })
	if code, body := login("default.localhost", "ann@example.com", userPassword); code != 401 {
		t.Errorf("acme's user logged in to default: %d %v", code, body)
	}
	if code, body := login("default.localhost", "ed@example.com", "wrong password!"); code != 401 {
		t.Errorf("wrong password: %d %v", code, body)
	}

	// The server records the operator's creation in the tenant's audit
	// log, which the default tenant's admin reads.
	code, body = login("default.localhost", "ops@example.com", "a long chosen password")
	if code != 200 {
		t.Fatalf("admin login: %d %v", code, body)
	}
	code, audit, _ := srv.sendJSON(t, "GET", "default.localhost", "/api/audit?action=user.created", body["token"].(string), nil)
	events, _ := audit["data"].([]any)
	if code != 200 || len(events) != 1 {
		t.Fatalf("GET /api/audit = %d %v", code, audit)
	}
	if e := events[0].(map[string]any); e["actor_type"] != "operator" || e["target"] == "" {
		t.Errorf("audit event = %v", e)
	}
	if strings.Contains(srv.logs.String(), userPassword) {
		t.Errorf("a user's password reached the server's log")
	}
}

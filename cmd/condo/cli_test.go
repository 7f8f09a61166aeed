package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// oneErrorLine fails unless stderr is exactly one "condo: " line.
func oneErrorLine(t *testing.T, errOut string) {
	t.Helper()
	if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "condo: ") {
		t.Errorf("stderr = %q, want one condo: line", errOut)
	}
}

// A mistyped data directory is refused by name, and left uncreated,
// instead of conjuring an empty catalog that reports no tenants.
func TestCLI_MissingCatalog(t *testing.T) {
	parent := t.TempDir()
	empty := filepath.Join(parent, "empty") // exists, holds no catalog
	os.Mkdir(empty, 0o755)
	typo := filepath.Join(parent, "dta")
	commands := [][]string{
		{"tenants", "list"},
		{"tenants", "create", "acme"},
		{"tenants", "show", "acme"},
		{"tenants", "suspend", "acme"},
		{"domains", "list"},
		{"domains", "add", "acme", "acme.example.com"},
		{"admins", "create", "ops@example.com"},
		{"users", "list", "acme"},
		{"users", "create", "acme", "ann@example.com"},
		{"mail", "outbox"},
		{"migrate", "status"},
		{"migrate", "up"},
		{"migrate", "force", "acme", "1"},
	}
	t.Setenv("CONDO_ADMIN_PASSWORD", "a long enough password")
	t.Setenv("CONDO_PASSWORD", "a long enough password")
	for _, dir := range []string{typo, empty} {
		for _, args := range commands {
			t.Run(filepath.Base(dir)+"/"+strings.Join(args, "_"), func(t *testing.T) {
				code, _, errOut := run(t, "", append(args, "--data", dir)...)
				if code != 1 {
					t.Errorf("exit = %d, want 1 (%s)", code, errOut)
				}
				oneErrorLine(t, errOut)
				if !strings.Contains(errOut, "no catalog in "+dir) || !strings.Contains(errOut, "condo init") {
					t.Errorf("stderr = %q, want the directory named and condo init suggested", errOut)
				}
			})
		}
	}
	t.Run("FromEnvironment", func(t *testing.T) {
		t.Setenv("CONDO_DATA", typo)
		code, _, errOut := run(t, "", "tenants", "list")
		if code != 1 || !strings.Contains(errOut, "no catalog in "+typo) {
			t.Errorf("CONDO_DATA typo: %d %q", code, errOut)
		}
	})
	if _, err := os.Stat(typo); !os.IsNotExist(err) {
		t.Errorf("the mistyped directory was created (%v)", err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("files written in a directory without a catalog: %v", entries)
	}
}

func TestInit(t *testing.T) {
	t.Run("ChosenAdmin", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data") // init creates it, as serve does
		t.Setenv("CONDO_ADMIN_EMAIL", "ops@example.com")
		t.Setenv("CONDO_ADMIN_PASSWORD", "a long chosen password")
		code, out, errOut := run(t, "", "init", "--data", data)
		if code != 0 {
			t.Fatalf("init: %d %s", code, errOut)
		}
		if strings.Contains(out, "Password") || strings.Contains(out+errOut, "a long chosen password") {
			t.Errorf("a chosen password was printed: %q %q", out, errOut)
		}
		if !strings.Contains(out, "initialised "+data) {
			t.Errorf("init said %q", out)
		}
		_, out, _ = run(t, "", "tenants", "list", "--data", data, "--json")
		var list struct {
			Tenants []struct{ ID string } `json:"tenants"`
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Tenants) != 1 || list.Tenants[0].ID != "default" {
			t.Fatalf("tenants after init = %s (%v), want default alone", out, err)
		}
		// As after serve's first run, the admin administers the default
		// tenant as well as the platform.
		users := listUsers(t, data, "default")
		if len(users) != 1 || users[0].Email != "ops@example.com" || users[0].Role != "admin" {
			t.Errorf("default tenant's users = %+v", users)
		}
		if code, _, _ := run(t, "a long enough password\n", "admins", "create", "ops@example.com", "--data", data); code != 1 {
			t.Errorf("the platform admin was not created by init")
		}
	})

	t.Run("GeneratedPasswordOnce", func(t *testing.T) {
		data := t.TempDir()
		t.Setenv("CONDO_ADMIN_EMAIL", "")
		t.Setenv("CONDO_ADMIN_PASSWORD", "")
		code, out, errOut := run(t, "", "init", "--data", data)
		if code != 0 {
			t.Fatalf("init: %d %s", code, errOut)
		}
		if !regexp.MustCompile(`Password:\s+\S{16,}`).MatchString(out) {
			t.Fatalf("no generated password printed: %q", out)
		}

		// A second init changes nothing, says why, and fails for scripts.
		code, out, errOut = run(t, "", "init", "--data", data)
		if code != 1 || strings.Contains(out, "Password") {
			t.Errorf("second init: %d %q", code, out)
		}
		oneErrorLine(t, errOut)
		if !strings.Contains(errOut, data+" is already initialised") {
			t.Errorf("second init said %q", errOut)
		}

		// The server then starts on it as on any later start: no new
		// password, the default tenant there.
		s := startServer(t, data)
		if strings.Contains(s.stdout.String(), "Password") {
			t.Errorf("serve after init printed a password: %q", s.stdout.String())
		}
		if code, body := s.get(t, "default.localhost", "/api/tenant"); code != 200 {
			t.Errorf("default tenant after init: %d %v", code, body)
		}
	})

	t.Run("Arguments", func(t *testing.T) {
		data := t.TempDir()
		for _, args := range [][]string{{"init", "extra"}, {"init", "--json"}} {
			code, _, errOut := run(t, "", append(args, "--data", data)...)
			if code != 2 {
				t.Errorf("%v: exit %d, want 2", args, code)
			}
			oneErrorLine(t, errOut)
		}
		if entries, _ := os.ReadDir(data); len(entries) != 0 {
			t.Errorf("a refused init wrote %v", entries)
		}
	})
}

func TestCLI_Version(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, errOut := run(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: %d %s", args, code, errOut)
		}
		if !strings.HasPrefix(out, "condo ") || !strings.Contains(out, "go:     "+runtime.Version()) ||
			!regexp.MustCompile(`(?m)^sqlite: 3\.\d+\.\d+$`).MatchString(out) || !strings.Contains(out, "commit: ") {
			t.Errorf("%v printed %q", args, out)
		}
	}
	code, out, _ := run(t, "", "--json", "version")
	var b buildInfo
	if err := json.Unmarshal([]byte(out), &b); code != 0 || err != nil || b.Go != runtime.Version() || b.SQLite == "" || b.Version == "" {
		t.Errorf("--json version: %d %q", code, out)
	}

	t.Run("VCSStamp", func(t *testing.T) {
		info := &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.modified", Value: "true"}}}
		got := fromBuildInfo(info, true)
		if got.Version != "v1.4.0" || got.Commit != "0123abcd" || !got.Modified {
			t.Errorf("from a stamped build: %+v", got)
		}
		got = fromBuildInfo(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true)
		if got.Version != "dev" || got.Commit != "unknown" {
			t.Errorf("from an unstamped build: %+v", got)
		}
	})
}

// Every command answers `condo help CMD` and `CMD --help` alike, on
// standard output with exit 0, listing its flags.
func TestCLI_Help(t *testing.T) {
	var cfg Config
	for _, c := range commands {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			code, viaHelp, errOut := run(t, "", append([]string{"help"}, strings.Fields(c.name)...)...)
			if code != 0 || errOut != "" {
				t.Fatalf("help %s: %d %s", c.name, code, errOut)
			}
			code, viaFlag, _ := run(t, "", append(strings.Fields(c.name), "--help")...)
			if code != 0 || viaFlag != viaHelp {
				t.Errorf("%s --help: %d %q, want what help %s prints", c.name, code, viaFlag, c.name)
			}
			if !strings.HasPrefix(viaHelp, "Usage: condo "+c.name) || !strings.Contains(viaHelp, "\nFlags:\n") {
				t.Errorf("help %s = %q", c.name, viaHelp)
			}
			want := []string{"--data"}
			switch c.name {
			case "serve":
				for _, s := range cfg.settings() { // every server setting
					want = append(want, "--"+s.flag)
				}
			case "tenants create":
				want = append(want, "--json", "--name", "--domain", "--plan", "--region", "--residency", "--residency-sets")
			case "migrate up":
				want = append(want, "--to", "--concurrency", "--canary", "--max-failures", "--dry-run", "--sample")
			}
			for _, f := range want {
				if !regexp.MustCompile(`(?m)^  ` + f + `\b`).MatchString(viaHelp) {
					t.Errorf("help %s lacks %s:\n%s", c.name, f, viaHelp)
				}
			}
		})
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		code, out, _ := run(t, "", args...)
		if code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		for _, c := range commands {
			if !strings.Contains(out, "  "+c.name+" ") {
				t.Errorf("%v does not list %s", args, c.name)
			}
		}
	}
	if code, out, _ := run(t, "", "help", "migrate"); code != 0 || !strings.Contains(out, "condo migrate force") {
		t.Errorf("help migrate: %d %q", code, out)
	}
}

func TestCLI_GlobalFlags(t *testing.T) {
	data, other := t.TempDir(), t.TempDir()
	mustCatalog(t, data)
	mustCatalog(t, other)
	if code, _, errOut := run(t, "", "--data", data, "tenants", "create", "acme"); code != 0 {
		t.Fatalf("--data before the command: %d %s", code, errOut)
	}
	code, out, errOut := run(t, "", "--data", data, "--json", "tenants", "list")
	var list struct {
		Total int `json:"total"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || list.Total != 1 {
		t.Fatalf("--data X --json tenants list: %d %q %s", code, out, errOut)
	}
	// A flag after the command wins over one before it.
	code, out, _ = run(t, "", "--data", data, "--json", "tenants", "list", "--data", other)
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || list.Total != 0 {
		t.Errorf("the command's own --data did not win: %q", out)
	}
	code, _, errOut = run(t, "", "--colour", "tenants", "list")
	if code != 2 {
		t.Errorf("unknown global flag: exit %d", code)
	}
	oneErrorLine(t, errOut)
}

func TestCLI_UnknownCommand(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `condo: unknown command "frobnicate"; run 'condo help'` + "\n"},
		{[]string{"sevre"}, `condo: unknown command "sevre"; did you mean "serve"?` + "\n"},
		{[]string{"tenant", "list"}, `condo: unknown command "tenant"; did you mean "tenants list"?` + "\n"},
		{[]string{"tenants", "lst"}, `condo: unknown command "tenants lst"; did you mean "tenants list"?` + "\n"},
		{[]string{"migrate", "upp"}, `condo: unknown command "migrate upp"; did you mean "migrate up"?` + "\n"},
		{[]string{"tenants", "frob"}, `condo: unknown command "tenants frob": tenants has create, list, show, export, import, archive, restore, delete, backups, restore-backup, verify-backup, purge, move, suspend, resume, set-plan; run 'condo help tenants'` + "\n"},
		{[]string{"tenants"}, `condo: tenants needs a command: create, list, show, export, import, archive, restore, delete, backups, restore-backup, verify-backup, purge, move, suspend, resume, set-plan; run 'condo help tenants'` + "\n"},
		{[]string{"help", "tenant"}, `condo: unknown command "tenant"; did you mean "tenants"?` + "\n"},
	} {
		code, _, errOut := run(t, "", tt.args...)
		if code != 2 || errOut != tt.want {
			t.Errorf("%v: %d %q, want 2 %q", tt.args, code, errOut, tt.want)
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/condohq/condo/catalog"
)

// condoBin is the real binary, built once for the tests that need a
// separate process.
var condoBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "condo-bin-")
	if err != nil {
		panic(err)
	}
	os.Chmod(dir, 0o755) // TestServe_UnwritableDataDir runs it as another user
	condoBin = filepath.Join(dir, "condo")
	build := exec.Command("go", "build", "-o", condoBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build condo: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs one CLI command in-process and returns its exit code and output.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut}
	code := m.Exec(context.Background(), args)
	return code, out.String(), errOut.String()
}

// mustCatalog creates an empty catalog in data, as operator commands
// need, without the default tenant that init adds.
func mustCatalog(t *testing.T, data string) {
	t.Helper()
	cat, err := catalog.Open(context.Background(), data, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cat.Close()
}

// server is a `condo serve` child process.
type server struct {
	cmd    *exec.Cmd
	addr   string
	stdout *syncBuffer
	logs   *syncBuffer
}

func startServer(t *testing.T, data string, env ...string) *server {
	t.Helper()
	return startServerArgs(t, data, nil, env...)
}

// startServerArgs starts `condo serve` with more flags (a later --addr
// wins over the default one).
func startServerArgs(t *testing.T, data string, args []string, env ...string) *server {
	t.Helper()
	cmd := exec.Command(condoBin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--resolve-ttl", "200ms"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	s := &server{cmd: cmd, stdout: &syncBuffer{}, logs: &syncBuffer{}}
	cmd.Stdout = s.stdout
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(s.logs, pw)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() { // reads the log until the server says where it listens
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`msg="condo serving" addr=(\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case s.addr = <-addr:
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start: %s", s.logs.String())
	}
	return s
}

func (s *server) get(t *testing.T, host, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+s.addr+path, nil)
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s%s: %v", host, path, err)
	}
	return res.StatusCode, body
}

func TestServe_FirstRun(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	code, body := s.get(t, "default.localhost", "/api/tenant")
	if code != 200 || body["data"].(map[string]any)["id"] != "default" {
		t.Fatalf("default tenant: %d %v", code, body)
	}
	out := s.stdout.String()
	m := regexp.MustCompile(`Password:\s+(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no generated password printed: %q", out)
	}
	if strings.Contains(s.logs.String(), m[1]) {
		t.Errorf("the generated password reached the log")
	}

	// Operator commands work while the server runs; the server sees the
	// new tenant within its cache TTL.
	if code, _, errOut := run(t, "", "tenants", "create", "acme", "--data", data, "--name", "Acme", "--domain", "acme.example.com"); code != 0 {
		t.Fatalf("tenants create: %d %s", code, errOut)
	}
	eventually(t, func() bool { c, _ := s.get(t, "acme.example.com", "/api/tenant"); return c == 200 })
	if code, _, errOut := run(t, "", "tenants", "suspend", "--data", data, "acme"); code != 0 {
		t.Fatalf("tenants suspend: %d %s", code, errOut)
	}
	eventually(t, func() bool { c, _ := s.get(t, "acme.localhost", "/api/tenant"); return c == 403 })
	if code, _, _ := run(t, "", "tenants", "resume", "acme", "--data", data); code != 0 {
		t.Fatal("resume failed")
	}
	if code, _, _ := run(t, "", "domains", "add", "acme", "www.acme.test", "--data", data); code != 0 {
		t.Fatal("domains add failed")
	}
	eventually(t, func() bool { c, _ := s.get(t, "www.acme.test", "/api/tenant"); return c == 200 })

	// Graceful shutdown: SIGTERM, exit 0, the log says so.
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, s.logs.String())
	}
	if !strings.Contains(s.logs.String(), "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", s.logs.String())
	}

	// A second start on the same directory prints no password again and
	// keeps the tenants.
	s2 := startServer(t, data)
	if strings.Contains(s2.stdout.String(), "Password") {
		t.Errorf("password printed again on restart")
	}
	if c, _ := s2.get(t, "acme.localhost", "/api/tenant"); c != 200 {
		t.Errorf("acme after restart: %d", c)
	}
}

func TestServe_AdminFromEnv(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "CONDO_ADMIN_EMAIL=ops@example.com", "CONDO_ADMIN_PASSWORD=a long chosen password")
	if strings.Contains(s.stdout.String(), "Password") || strings.Contains(s.logs.String(), "a long chosen password") {
		t.Errorf("a chosen password was printed")
	}
	if !strings.Contains(s.logs.String(), "ops@example.com") {
		t.Errorf("admin email not logged")
	}
}

func TestServe_UnwritableDataDir(t *testing.T) {
	// Not t.TempDir(): another user must be able to reach this directory.
	parent, err := os.MkdirTemp("", "condo-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	data := filepath.Join(parent, "data")
	os.Mkdir(data, 0o555)
	cmd := exec.Command(condoBin, "serve", "--addr", "127.0.0.1:0", "--data", data)
	if os.Geteuid() == 0 {
		// root ignores permission bits: run as nobody, who cannot write here.
		os.Chmod(parent, 0o755)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("serve on an unwritable directory succeeded:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "condo: ") || !strings.Contains(last, "permission") {
		t.Errorf("error = %q, want one clear line about permissions", last)
	}
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Errorf("files written: %v", entries)
	}
}

func TestCLI(t *testing.T) {
	data := t.TempDir()
	mustCatalog(t, data)
	if code, out, errOut := run(t, "", "tenants", "create", "acme", "--data", data, "--json"); code != 0 {
		t.Fatalf("create: %d %s", code, errOut)
	} else {
		var ten map[string]any
		if err := json.Unmarshal([]byte(out), &ten); err != nil || ten["id"] != "acme" {
			t.Fatalf("--json output %q: %v", out, err)
		}
	}
	bad := []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"NoCommand", nil, 2},
		{"UnknownCommand", []string{"frobnicate"}, 2},
		{"MissingID", []string{"tenants", "create"}, 2},
		{"ExtraArg", []string{"tenants", "show", "acme", "beta"}, 2},
		{"UnknownFlag", []string{"tenants", "list", "--colour"}, 2},
		{"PathID", []string{"tenants", "create", "../x"}, 1},
		{"SlashID", []string{"tenants", "create", "a/b"}, 1},
		{"DotID", []string{"tenants", "create", "."}, 1},
		{"UpperID", []string{"tenants", "create", "Acme"}, 1},
		{"LongID", []string{"tenants", "create", strings.Repeat("a", 64)}, 1},
		{"Duplicate", []string{"tenants", "create", "acme"}, 1},
		{"BadPlan", []string{"tenants", "create", "newco", "--plan", "gold"}, 1},
		{"BadDomain", []string{"tenants", "create", "newco", "--domain", "not a domain"}, 1},
		{"ShowUnknown", []string{"tenants", "show", "nobody"}, 1},
		{"SuspendUnknown", []string{"tenants", "suspend", "nobody"}, 1},
		{"DomainUnknownTenant", []string{"domains", "add", "nobody", "x.example.com"}, 1},
		{"DomainInvalid", []string{"domains", "add", "acme", "x_y.example.com"}, 1},
		{"DomainRemoveUnknown", []string{"domains", "remove", "x.example.com"}, 1},
		{"DomainListUnknown", []string{"domains", "list", "nobody"}, 1},
		{"AdminNoPassword", []string{"admins", "create", "ops@example.com"}, 2},
		{"AdminBadEmail", []string{"admins", "create", "nope"}, 1},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if len(args) > 0 {
				args = append(append([]string{}, args...), "--data", data)
			}
			code, _, errOut := run(t, "", args...)
			if code != tt.wantCode {
				t.Errorf("exit = %d, want %d (%s)", code, tt.wantCode, errOut)
			}
			if lines := strings.Count(errOut, "\n"); lines != 1 || !strings.HasPrefix(errOut, "condo: ") {
				t.Errorf("stderr = %q, want one line", errOut)
			}
		})
	}
	// None of that changed anything.
	_, out, _ := run(t, "", "tenants", "list", "--data", data, "--json")
	var list struct {
		Total int `json:"total"`
	}
	json.Unmarshal([]byte(out), &list)
	if list.Total != 1 {
		t.Errorf("tenants after bad commands = %d, want 1", list.Total)
	}
	if entries, _ := os.ReadDir(filepath.Join(data, "tenants")); len(entries) != 1 {
		t.Errorf("tenant directories = %v, want only acme", entries)
	}

	t.Run("Admins", func(t *testing.T) {
		if code, _, errOut := run(t, "a long enough password\n", "admins", "create", "ops@example.com", "--data", data); code != 0 {
			t.Fatalf("admins create: %s", errOut)
		}
		if code, _, _ := run(t, "a long enough password\n", "admins", "create", "ops@example.com", "--data", data); code != 1 {
			t.Errorf("duplicate admin accepted")
		}
	})
	t.Run("Domains", func(t *testing.T) {
		if code, _, errOut := run(t, "", "domains", "add", "--primary", "acme", "acme.example.com", "--data", data); code != 0 {
			t.Fatal(errOut)
		}
		if code, _, _ := run(t, "", "tenants", "create", "other", "--domain", "acme.example.com", "--data", data); code != 1 {
			t.Errorf("a taken domain was accepted")
		}
		_, out, _ := run(t, "", "domains", "list", "acme", "--data", data)
		if !strings.Contains(out, "acme.example.com") {
			t.Errorf("domains list = %q", out)
		}
		_, out, _ = run(t, "", "tenants", "show", "acme", "--data", data)
		if !strings.Contains(out, "acme.example.com (primary)") {
			t.Errorf("tenants show = %q", out)
		}
	})
}

// The README's settings table and the program's settings must agree.
func TestREADMESettings(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// A setting without a flag (a secret) has "none" in the flag column.
	row := regexp.MustCompile("(?m)^\\| (?:`--([a-z-]+)`|none) \\| `([A-Z_]+)` \\| `?([^|`]*)`? \\|")
	documented := map[string][2]string{} // by variable: flag, default
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		documented[m[2]] = [2]string{m[1], strings.TrimSpace(m[3])}
	}
	var cfg Config
	for _, s := range cfg.settings() {
		d, ok := documented[s.env]
		if !ok {
			t.Errorf("README lacks %s", s.env)
			continue
		}
		def := s.def
		if def == "" || def == "0" && s.flag == "pool-size" {
			def = d[1] // free text such as "from the open-file limit"
		}
		if d[0] != s.flag || d[1] != def {
			t.Errorf("README says %s is flag %q default %q; the program says flag %q default %q", s.env, d[0], d[1], s.flag, s.def)
		}
		delete(documented, s.env)
	}
	for env := range documented {
		t.Errorf("README documents %s, which the program lacks", env)
	}
}

func eventually(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for a child's output and a test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

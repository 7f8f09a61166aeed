package main

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/condohq/condo/api"
)

// flyConfig is the part of fly.toml that must agree with the server.
type flyConfig struct {
	App           string            `toml:"app"`
	PrimaryRegion string            `toml:"primary_region"`
	KillSignal    string            `toml:"kill_signal"`
	KillTimeout   string            `toml:"kill_timeout"`
	Env           map[string]string `toml:"env"`
	Mounts        struct {
		Source      string `toml:"source"`
		Destination string `toml:"destination"`
	} `toml:"mounts"`
	HTTPService struct {
		InternalPort     int    `toml:"internal_port"`
		AutoStopMachines string `toml:"auto_stop_machines"`
		Concurrency      struct {
			Type      string `toml:"type"`
			SoftLimit int    `toml:"soft_limit"`
			HardLimit int    `toml:"hard_limit"`
		} `toml:"concurrency"`
		Checks []struct {
			Method string `toml:"method"`
			Path   string `toml:"path"`
		} `toml:"checks"`
	} `toml:"http_service"`
	Checks map[string]struct {
		Type string `toml:"type"`
		Port int    `toml:"port"`
		Path string `toml:"path"`
	} `toml:"checks"`
}

// settingNamed returns the setting with flag name, so that the test reads the
// variable names and defaults where serve does.
func settingNamed(t *testing.T, name string) setting {
	t.Helper()
	var cfg Config
	for _, s := range cfg.settings() {
		if s.flag == name {
			return s
		}
	}
	t.Fatalf("no setting --%s", name)
	return setting{}
}

func readFlyConfig(t *testing.T) flyConfig {
	t.Helper()
	var fc flyConfig
	if _, err := toml.DecodeFile("../../fly.toml", &fc); err != nil {
		t.Fatalf("fly.toml: %v", err)
	}
	return fc
}

// value is what serve reads for s on Fly.io: fly.toml's [env], else the
// default.
func (fc flyConfig) value(s setting) string {
	if v, ok := fc.Env[s.env]; ok {
		return v
	}
	return s.def
}

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return p
}

// fly.toml routes to the port serve listens on, mounts the volume where
// serve keeps its data, checks the health path serve answers, and gives
// the drain time to finish.
func TestFlyConfig(t *testing.T) {
	fc := readFlyConfig(t)
	if fc.App == "" || fc.PrimaryRegion == "" {
		t.Errorf("fly.toml needs app and primary_region: %q %q", fc.App, fc.PrimaryRegion)
	}
	addr, data := settingNamed(t, "addr"), settingNamed(t, "data")
	listen := port(t, fc.value(addr))
	if internal := fc.HTTPService.InternalPort; listen != strconv.Itoa(internal) {
		t.Errorf("http_service.internal_port is %d; serve listens on %s (%s)", internal, listen, addr.env)
	}
	if fc.Mounts.Destination == "" || fc.Mounts.Source == "" {
		t.Fatalf("fly.toml mounts no volume: %+v", fc.Mounts)
	}
	if got := fc.value(data); got != fc.Mounts.Destination {
		t.Errorf("%s is %q; the volume is mounted at %q: the data would not survive a restart", data.env, got, fc.Mounts.Destination)
	}
	if len(fc.HTTPService.Checks) == 0 {
		t.Fatal("http_service has no checks")
	}
	for _, c := range fc.HTTPService.Checks {
		// The routing check must not fail while the catalog is away: this
		// machine holds its tenants' only copy.
		if c.Path != api.HealthPath {
			t.Errorf("http_service check on %q; want %s", c.Path, api.HealthPath)
		}
	}
	for name, c := range fc.Checks {
		if c.Port != fc.HTTPService.InternalPort || (c.Type == "http" && c.Path != api.ReadyPath && c.Path != api.HealthPath) {
			t.Errorf("check %s on port %d path %q: not one serve answers", name, c.Port, c.Path)
		}
	}
	// main stops on SIGINT and SIGTERM; Fly's SIGKILL must come after the drain.
	if fc.KillSignal != "SIGTERM" && fc.KillSignal != "SIGINT" {
		t.Errorf("kill_signal %q: serve drains on SIGTERM or SIGINT only", fc.KillSignal)
	}
	shutdown := settingNamed(t, "shutdown-timeout")
	drain, err := time.ParseDuration(fc.value(shutdown))
	if err != nil {
		t.Fatal(err)
	}
	kill, err := time.ParseDuration(fc.KillTimeout)
	if err != nil {
		t.Fatalf("kill_timeout %q: %v", fc.KillTimeout, err)
	}
	if kill <= drain {
		t.Errorf("kill_timeout %s is not longer than %s %s: Fly kills serve mid-drain", kill, shutdown.env, drain)
	}
	// A stopped machine's tenants are unreachable over 6PN: see the comment.
	if fc.HTTPService.AutoStopMachines != "off" {
		t.Errorf("auto_stop_machines = %q; read fly.toml's comment before changing it", fc.HTTPService.AutoStopMachines)
	}
	cc := fc.HTTPService.Concurrency
	if cc.Type != "requests" || cc.SoftLimit <= 0 || cc.SoftLimit >= cc.HardLimit {
		t.Errorf("concurrency %+v: want type requests, 0 < soft_limit < hard_limit", cc)
	}
	// Every variable fly.toml sets is one serve reads: a typo is silent.
	known := map[string]bool{}
	var cfg Config
	for _, s := range cfg.settings() {
		known[s.env] = true
	}
	for k := range fc.Env {
		if !known[k] {
			t.Errorf("fly.toml sets %s, which is no setting", k)
		}
	}
}

// dockerfile is the instructions of a Dockerfile's final stage (the
// image that runs), keyword upper-cased, continuation lines joined; build
// holds the earlier stages'.
type dockerfile struct{ build, final [][2]string }

func readDockerfile(t *testing.T, name string) dockerfile {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var all [][2]string
	var line strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") || l == "" && line.Len() == 0 {
			continue
		}
		if cont, ok := strings.CutSuffix(l, "\\"); ok {
			line.WriteString(cont + " ")
			continue
		}
		line.WriteString(l)
		kw, rest, _ := strings.Cut(strings.TrimSpace(line.String()), " ")
		all = append(all, [2]string{strings.ToUpper(kw), strings.TrimSpace(rest)})
		line.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var d dockerfile
	last := -1
	for i, in := range all {
		if in[0] == "FROM" {
			last = i
		}
	}
	if last < 0 {
		t.Fatal("Dockerfile has no FROM")
	}
	d.build, d.final = all[:last], all[last:]
	return d
}

// The image builds the static binary and runs serve as a non-root user,
// on fly.toml's port, with its data directory that user's.
func TestDockerfile(t *testing.T) {
	d := readDockerfile(t, "../../Dockerfile")
	fc := readFlyConfig(t)
	var static bool
	for _, in := range d.build {
		if in[0] == "RUN" && strings.Contains(in[1], "go build") {
			static = strings.Contains(in[1], "CGO_ENABLED=0") && strings.Contains(in[1], "-trimpath") &&
				strings.Contains(in[1], "-X main.version=")
		}
	}
	if !static {
		t.Error("the build stage does not run CGO_ENABLED=0 go build -trimpath with -X main.version=")
	}
	env := map[string]string{}
	var user, chown string
	var exposed []string
	var entry []string
	for _, in := range d.final {
		switch in[0] {
		case "USER":
			user = in[1]
		case "EXPOSE":
			exposed = append(exposed, strings.Fields(in[1])...)
		case "ENV":
			for _, kv := range strings.Fields(in[1]) {
				if k, v, ok := strings.Cut(kv, "="); ok {
					env[k] = v
				}
			}
		case "COPY":
			f := strings.Fields(in[1])
			for _, a := range f {
				if c, ok := strings.CutPrefix(a, "--chown="); ok && path.Clean(f[len(f)-1]) == fc.Mounts.Destination {
					chown = c
				}
			}
		case "ENTRYPOINT", "CMD":
			entry = append(entry, in[1])
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || uid == "0" || uid == "root" {
		t.Errorf("the image runs as %q: want a non-root USER", user)
	}
	if chown == "" || chown != user {
		t.Errorf("%s is owned by %q in the image, the server runs as %q", fc.Mounts.Destination, chown, user)
	}
	addr, data := settingNamed(t, "addr"), settingNamed(t, "data")
	listen := port(t, fc.value(addr))
	if v, ok := env[addr.env]; ok && port(t, v) != listen {
		t.Errorf("the image's %s is %s; fly.toml's port is %s", addr.env, v, listen)
	}
	if !slices.Contains(exposed, listen) && !slices.Contains(exposed, listen+"/tcp") {
		t.Errorf("the image exposes %v, not serve's port %s", exposed, listen)
	}
	if env[data.env] != fc.Mounts.Destination {
		t.Errorf("the image's %s is %q; fly.toml mounts the volume at %q", data.env, env[data.env], fc.Mounts.Destination)
	}
	if j := strings.Join(entry, " "); !strings.Contains(j, `"serve"`) {
		t.Errorf("the image does not run condo serve: %s", j)
	}
}

// condo serve accepts fly.toml's [env] and answers its checks' paths.
func TestFlyConfig_ServeAnswersChecks(t *testing.T) {
	fc := readFlyConfig(t)
	var env []string
	for k, v := range fc.Env {
		env = append(env, k+"="+v)
	}
	// The harness reads the text log and picks the port and the directory.
	env = append(env, "CONDO_LOG_FORMAT=text")
	s := startServer(t, t.TempDir(), env...)
	paths := []string{}
	for _, c := range fc.HTTPService.Checks {
		paths = append(paths, c.Path)
	}
	for _, c := range fc.Checks {
		paths = append(paths, c.Path)
	}
	for _, p := range paths {
		res, err := http.Get("http://" + s.addr + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/move"
)

// moveEnv is two real nodes, ams and iad, each with its own data
// directory, sharing one catalog file (iad's catalog.db is a link to
// ams's: SQLite follows it, WAL and all).
type moveEnv struct {
	dataA, dataB string
	a, b         *server
	token        string
}

const moveResidency = "eu=ams,fra"

func startMoveEnv(t *testing.T, envA, envB []string) *moveEnv {
	t.Helper()
	e := &moveEnv{dataA: t.TempDir(), dataB: t.TempDir()}
	e.a = e.start(t, "a", envA...)
	if err := os.Symlink(catalog.Path(e.dataA), catalog.Path(e.dataB)); err != nil {
		t.Fatal(err)
	}
	e.b = e.start(t, "b", envB...)
	if code, _, errOut := run(t, "", "tenants", "create", "mover", "--region", "ams", "--data", e.dataA); code != 0 {
		t.Fatalf("create: %s", errOut)
	}
	code, out, errOut := run(t, "", "tokens", "create", "mover", "--sql", "write", "--name", "move", "--json", "--data", e.dataA)
	var tok struct{ Token string }
	if json.Unmarshal([]byte(out), &tok); code != 0 || tok.Token == "" {
		t.Fatalf("tokens create: %d %s", code, errOut)
	}
	e.token = tok.Token
	eventually(t, func() bool { _, err := e.sql(e.a, "SELECT 1"); return err == nil })
	if _, err := e.sql(e.a, "CREATE TABLE w (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	// Some bulk, so the copy is not trivially small (about 4 MB).
	if _, err := e.sql(e.a, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000) INSERT INTO w (v) SELECT hex(randomblob(512)) FROM n"); err != nil {
		t.Fatal(err)
	}
	return e
}

// start starts node a (ams) or b (iad) on its data directory.
func (e *moveEnv) start(t *testing.T, which string, env ...string) *server {
	data, id, region := e.dataA, "node-ams", "ams"
	if which == "b" {
		data, id, region = e.dataB, "node-iad", "iad"
	}
	// A move test's traffic and its checks pass a plan's request rate.
	return startNode(t, data, id, region, append([]string{"CONDO_RESIDENCY_SETS=" + moveResidency, unmeteredPlans(t)}, env...)...)
}

// sql runs one statement on the tenant through s's libSQL endpoint and
// returns the first row's first value.
func (e *moveEnv) sql(s *server, stmt string) (string, error) {
	body, _ := json.Marshal(map[string]any{"requests": []any{
		map[string]any{"type": "execute", "stmt": map[string]any{"sql": stmt}}, map[string]any{"type": "close"}}})
	res, b, err := s.try("POST", "mover.localhost", "/v2/pipeline", strings.NewReader(string(body)),
		"Authorization", "Bearer "+e.token, "Content-Type", "application/json")
	if err != nil {
		return "", err
	}
	if res.StatusCode != 200 {
		return "", fmt.Errorf("%d %s", res.StatusCode, b)
	}
	var out struct {
		Results []struct {
			Type     string
			Error    *struct{ Message string }
			Response struct {
				Result struct {
					Rows [][]struct{ Value any }
				}
			}
		}
	}
	if err := json.Unmarshal(b, &out); err != nil || len(out.Results) == 0 {
		return "", fmt.Errorf("pipeline: %s", b)
	}
	if r := out.Results[0]; r.Type != "ok" {
		msg := string(b)
		if r.Error != nil {
			msg = r.Error.Message
		}
		return "", fmt.Errorf("statement failed: %s", msg)
	}
	if rows := out.Results[0].Response.Result.Rows; len(rows) > 0 && len(rows[0]) > 0 {
		return fmt.Sprint(rows[0][0].Value), nil
	}
	return "", nil
}

func (e *moveEnv) tenant(t *testing.T) *catalog.Tenant {
	t.Helper()
	cat, err := catalog.Open(context.Background(), e.dataA, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	ten, err := cat.Tenant(context.Background(), "mover")
	if err != nil {
		t.Fatal(err)
	}
	return ten
}

func (e *moveEnv) moveRecord(t *testing.T, id string) *catalog.Move {
	t.Helper()
	cat, err := catalog.Open(context.Background(), e.dataA, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	m, err := cat.Move(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// servedOnce checks the tenant lives in exactly one data directory, the
// one of its home region, with want rows, read through either node.
func (e *moveEnv) servedOnce(t *testing.T, home string, want int) {
	t.Helper()
	inA, inB := exists(filepath.Join(e.dataA, "tenants", "mover", "tenant.db")), exists(filepath.Join(e.dataB, "tenants", "mover", "tenant.db"))
	if ten := e.tenant(t); ten.Region != home || (home == "ams") != inA || (home == "iad") != inB {
		t.Fatalf("home %s epoch %d; in ams %v, in iad %v; want home %s only", ten.Region, ten.Epoch, inA, inB, home)
	}
	for _, s := range []*server{e.a, e.b} {
		var got string
		eventually(t, func() bool { // the other node's cache (200ms) may still hold the old home
			var err error
			got, err = e.sql(s, "SELECT count(*) FROM w")
			return err == nil && got == fmt.Sprint(want)
		})
	}
}

var pauseRe = regexp.MustCompile(`writes paused (\S+);`)

// A live move under read and write traffic: every acknowledged write is
// at the new home, no read fails, and the pause is reported.
func TestMove_Live(t *testing.T) {
	e := startMoveEnv(t, nil, nil)
	var acked sync.Map
	var nAcked, nWriteErr, nReads, nReadErr atomic.Int64
	var readErrs sync.Map
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := e.sql(e.a, fmt.Sprintf("INSERT INTO w (v) VALUES ('live-%d')", i)); err == nil {
				acked.Store(i, true)
				nAcked.Add(1)
			} else {
				nWriteErr.Add(1)
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				nReads.Add(1)
				if _, err := e.sql(e.a, "SELECT count(*) FROM w"); err != nil {
					nReadErr.Add(1)
					readErrs.Store(err.Error(), true)
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	code, out, errOut := run(t, "", "tenants", "move", "mover", "--region", "iad", "--data", e.dataA)
	time.Sleep(500 * time.Millisecond) // traffic goes on at the new home
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("move: %d %s %s\n%s", code, out, errOut, e.a.logs.String())
	}
	m := pauseRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no pause in %q", out)
	}
	t.Logf("write pause %s; %d writes acknowledged, %d refused; %d reads, %d failed", m[1], nAcked.Load(), nWriteErr.Load(), nReads.Load(), nReadErr.Load())
	for _, l := range strings.Split(e.a.logs.String(), "\n") {
		if strings.Contains(l, "tenant move flipped") {
			t.Log(l)
		}
	}
	readErrs.Range(func(k, _ any) bool { t.Errorf("read failed: %s", k); return true })
	if nAcked.Load() == 0 || nReads.Load() == 0 {
		t.Fatal("no traffic")
	}
	ten := e.tenant(t)
	if ten.Region != "iad" || ten.Epoch != 1 {
		t.Fatalf("after the move: region %s epoch %d", ten.Region, ten.Epoch)
	}
	// Every acknowledged write is at the new home, read there directly.
	var missing []int
	acked.Range(func(k, _ any) bool {
		if got, err := e.sql(e.b, fmt.Sprintf("SELECT count(*) FROM w WHERE v = 'live-%d'", k)); err != nil || got != "1" {
			missing = append(missing, k.(int))
		}
		return true
	})
	if len(missing) > 0 {
		t.Fatalf("%d acknowledged writes lost: %v", len(missing), missing[:min(10, len(missing))])
	}
	want := 4000 + int(nAcked.Load())
	e.servedOnce(t, "iad", want)
	if !exists(filepath.Join(e.dataA, "moved", "mover-1", "tenant.db")) {
		t.Error("the old copy is not kept under moved/")
	}

	// Residency: an eu tenant is never moved to iad, and nothing changes.
	if code, _, errOut := run(t, "", "tenants", "create", "eutenant", "--region", "ams", "--residency", "eu",
		"--residency-sets", moveResidency, "--data", e.dataA); code != 0 {
		t.Fatalf("create eutenant: %s", errOut)
	}
	code, _, errOut = run(t, "", "tenants", "move", "eutenant", "--region", "iad", "--residency-sets", moveResidency, "--data", e.dataA)
	if code == 0 || !strings.Contains(errOut, "residency") || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
		t.Fatalf("residency refusal: %d %q", code, errOut)
	}
	res, body := e.a.call(t, "POST", "localhost", "/platform/tenants/eutenant/move", strings.NewReader(`{"region": "iad"}`),
		"Authorization", "Bearer "+platformToken(t, e.a), "Content-Type", "application/json")
	if res.StatusCode != 400 || errorCode(body) != "residency_violation" {
		t.Fatalf("API residency refusal: %d %s", res.StatusCode, body)
	}
	cat, err := catalog.Open(context.Background(), e.dataA, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	if moves, _ := cat.Moves(context.Background(), catalog.MoveFilter{TenantID: "eutenant"}); len(moves) != 0 {
		t.Errorf("a refused move was recorded: %+v", moves)
	}
	if exists(filepath.Join(e.dataB, "incoming")) && len(mustReadDir(t, filepath.Join(e.dataB, "incoming"))) > 0 {
		t.Error("bytes reached the target")
	}

	// Moving back through the API: 202, then followed to done.
	res, body = e.a.call(t, "POST", "localhost", "/platform/tenants/mover/move", strings.NewReader(`{"region": "ams"}`),
		"Authorization", "Bearer "+platformToken(t, e.a), "Content-Type", "application/json")
	var started struct{ Data catalog.Move }
	if json.Unmarshal(body, &started); res.StatusCode != 202 || started.Data.ID == "" {
		t.Fatalf("API move: %d %s", res.StatusCode, body)
	}
	eventually(t, func() bool { return e.moveRecord(t, started.Data.ID).State == catalog.MoveDone })
	e.servedOnce(t, "ams", want)
	res, body = e.b.call(t, "GET", "localhost", "/platform/moves/"+started.Data.ID, nil, "Authorization", "Bearer "+platformToken(t, e.a))
	if res.StatusCode != 200 || !strings.Contains(string(body), `"state":"done"`) || !strings.Contains(string(body), `"write_pause"`) {
		t.Errorf("GET move: %d %s", res.StatusCode, body)
	}

	// The node endpoint takes only signed requests.
	res, body = e.b.call(t, "PUT", "localhost", move.NodePath+started.Data.ID+"/db", strings.NewReader("not a database"))
	if res.StatusCode != 401 || errorCode(body) != "node_auth" {
		t.Errorf("unsigned node request: %d %s", res.StatusCode, body)
	}
}

// try is call that returns a transport error instead of failing the test.
func (s *server) try(method, host, path string, body io.Reader, header ...string) (*http.Response, []byte, error) {
	req, _ := http.NewRequest(method, "http://"+s.addr+path, body)
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}

func mustReadDir(t *testing.T, dir string) []os.DirEntry {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// platformToken signs in as the platform admin the first run created.
func platformToken(t *testing.T, s *server) string {
	t.Helper()
	out := s.stdout.String()
	m := regexp.MustCompile(`Password: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no generated password in %q", out)
	}
	res, body := s.call(t, "POST", "localhost", "/platform/auth/login",
		strings.NewReader(`{"email": "admin@localhost", "password": "`+m[1]+`"}`), "Content-Type", "application/json")
	var tok struct{ Token string }
	if json.Unmarshal(body, &tok); res.StatusCode != 200 || tok.Token == "" {
		t.Fatalf("platform login: %d %s", res.StatusCode, body)
	}
	return tok.Token
}

// A move killed (SIGKILL) at each step, on either node: after a restart
// the tenant is served from exactly one place with every row, and a rerun
// of a move that did not flip ends it.
func TestMove_CrashAtEachStep(t *testing.T) {
	for _, c := range []struct {
		step    string
		target  bool // the target node dies, else the source
		flipped bool // the move had flipped when it died
	}{
		{"copied", false, false}, {"paused", false, false}, {"installed", false, false}, {"flipped", false, true},
		{"receive", true, false}, {"install", true, false},
	} {
		name := c.step
		if c.target {
			name = "target-" + c.step
		}
		t.Run(name, func(t *testing.T) {
			crash := []string{move.CrashEnv + "=" + c.step}
			var envA, envB []string
			if c.target {
				envB = crash
			} else {
				envA = crash
			}
			e := startMoveEnv(t, envA, envB)
			for i := range 20 {
				if _, err := e.sql(e.a, fmt.Sprintf("INSERT INTO w (v) VALUES ('before-%d')", i)); err != nil {
					t.Fatal(err)
				}
			}
			victim := e.a
			if c.target {
				victim = e.b
			}
			exited := make(chan struct{})
			go func() { victim.cmd.Wait(); close(exited) }()
			code, out, errOut := run(t, "", "tenants", "move", "mover", "--region", "iad", "--data", e.dataA, "--no-wait")
			select {
			case <-exited:
			case <-time.After(20 * time.Second):
				t.Fatalf("the node did not die at %s: move %d %s %s", c.step, code, out, errOut)
			}
			// Restarted without the hook, the node recovers what it was doing.
			if c.target {
				e.b = e.start(t, "b")
			} else {
				e.a = e.start(t, "a")
			}
			id := regexp.MustCompile(`move (mv_\w+)`).FindStringSubmatch(out)
			if id == nil {
				t.Fatalf("no move id in %q %q", out, errOut)
			}
			eventually(t, func() bool { return !e.moveRecord(t, id[1]).Live() })
			m := e.moveRecord(t, id[1])
			if c.flipped {
				if m.State != catalog.MoveDone {
					t.Fatalf("flipped move after restart: %s %s", m.State, m.Error)
				}
				e.servedOnce(t, "iad", 4020)
				return
			}
			if m.State != catalog.MoveFailed {
				t.Fatalf("move after restart: %s", m.State)
			}
			e.servedOnce(t, "ams", 4020)
			if _, err := e.sql(e.a, "INSERT INTO w (v) VALUES ('after')"); err != nil {
				t.Fatal(err)
			}
			eventually(t, func() bool { // the restarted node is up in the catalog again
				code, _, _ := run(t, "", "tenants", "move", "mover", "--region", "iad", "--data", e.dataA)
				return code == 0
			})
			e.servedOnce(t, "iad", 4021)
		})
	}
}

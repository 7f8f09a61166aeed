package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/jobs"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/migrations/migrationstest"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

const (
	adminEmail    = "ops@example.com"
	adminPassword = "correct horse battery"
)

// platformEnv is a server whose tenants were provisioned at the embedded
// schema and whose store's migration set has one more step.
type platformEnv struct {
	*tenantstoretest.Env
	srv   *httptest.Server
	ids   []string
	token string
}

func newPlatform(t *testing.T, set string, n int) *platformEnv {
	t.Helper()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
	p := &platformEnv{Env: env}
	for i := range n {
		p.ids = append(p.ids, fmt.Sprintf("t%03d", i))
	}
	env.MustCreate(t, p.ids...)
	if _, err := env.Catalog.CreateAdmin(context.Background(), adminEmail, adminPassword); err != nil {
		t.Fatal(err)
	}
	store := tenantstore.New(env.Catalog, tenantstore.Config{DataDir: env.DataDir, PoolSize: 8, Migrations: migrationstest.Set(t, set)})
	// The server's jobs run its fleet migrations, as under serve.
	j := jobs.New(env.Catalog, store, jobs.Config{})
	if err := j.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.srv = httptest.NewServer(api.New(env.Catalog, store, api.Config{Secret: testSecret, Jobs: j}))
	t.Cleanup(func() {
		p.srv.Close()
		if err := j.Close(context.Background()); err != nil {
			t.Error(err)
		}
		store.Close(context.Background())
	})
	res := do(t, p.srv, "POST", "localhost", "/platform/auth/login",
		strings.NewReader(`{"email": "`+adminEmail+`", "password": "`+adminPassword+`"}`))
	if res.Status != http.StatusOK {
		t.Fatalf("login: %d %+v", res.Status, res.Raw)
	}
	p.token, _ = res.Raw["token"].(string)
	return p
}

func (p *platformEnv) call(t *testing.T, method, path, body string) response {
	t.Helper()
	var r *strings.Reader
	if body != "" {
		r = strings.NewReader(body)
	} else {
		r = strings.NewReader("")
	}
	return do(t, p.srv, method, "localhost", path, r, "Authorization", "Bearer "+p.token)
}

// waitRun polls GET /platform/migrations until the newest run has ended.
func (p *platformEnv) waitRun(t *testing.T, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		res := p.call(t, "GET", "/platform/migrations/runs/"+id, "")
		if res.Status != http.StatusOK {
			t.Fatalf("run %s: %d %+v", id, res.Status, res.Raw)
		}
		if res.Data["status"] != catalog.RunRunning {
			return res.Data
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the run did not finish in time")
	return nil
}

// A fleet run started through the platform API migrates the tenants while
// requests hit them: no request fails, every tenant ends at the target.
func TestPlatform_MigrationRunBesideTraffic(t *testing.T) {
	p := newPlatform(t, "wordcount", 40)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	failures := map[int]int{}
	for w := range 4 {
		wg.Go(func() {
			for i := w * 7; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				res := do(t, p.srv, "GET", p.ids[i%len(p.ids)]+".localhost", "/api/tenant", nil)
				if res.Status != http.StatusOK {
					mu.Lock()
					failures[res.Status]++
					mu.Unlock()
				}
			}
		})
	}
	res := p.call(t, "POST", "/platform/migrations/run", `{"concurrency": 2, "canary": 3}`)
	if res.Status != http.StatusAccepted || res.Raw["id"] == nil || res.Data["status"] != catalog.RunRunning {
		close(stop)
		wg.Wait()
		t.Fatalf("start run: %d %+v", res.Status, res.Raw)
	}
	run := p.waitRun(t, res.Raw["id"].(string))
	close(stop)
	wg.Wait()
	if run["status"] != catalog.RunSucceeded || run["failed"].(float64) != 0 || run["migrated"].(float64)+run["skipped"].(float64) != 40 {
		t.Errorf("run = %+v", run)
	}
	if len(failures) > 0 {
		t.Errorf("requests failed during the run: %v", failures)
	}
	for _, id := range p.ids {
		res := do(t, p.srv, "GET", id+".localhost", "/api/tenant", nil)
		if v := res.Data["schema_version"]; v != float64(migrationstest.Version) {
			t.Errorf("%s at version %v", id, v)
		}
		ten, _ := p.Catalog.Lookup(context.Background(), id)
		if ten.Schema.Version != migrationstest.Version || ten.Schema.Dirty || ten.Schema.Error != "" {
			t.Errorf("%s in the catalog: %+v", id, ten.Schema)
		}
	}
	st := p.call(t, "GET", "/platform/migrations", "")
	if st.Status != http.StatusOK || st.Data["latest"] != float64(migrationstest.Version) {
		t.Fatalf("status: %d %+v", st.Status, st.Raw)
	}
	if runs, _ := st.Data["runs"].([]any); len(runs) != 1 {
		t.Errorf("status runs = %v", st.Data["runs"])
	}
}

// One run at a time: while a run is held up by a locked tenant, a second
// POST is refused with 409.
func TestPlatform_OneRunAtATime(t *testing.T) {
	p := newPlatform(t, "wordcount", 4)
	// Another writer holds t000's write lock, so the run waits on it.
	db, err := sqlitedb.Open(filepath.Join(p.DataDir, "tenants", "t000", "tenant.db"), sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Write.Begin()
	if err != nil {
		t.Fatal(err)
	}
	first := p.call(t, "POST", "/platform/migrations/run", `{"concurrency": 1, "canary": 0}`)
	if first.Status != http.StatusAccepted {
		tx.Rollback()
		t.Fatalf("first run: %d %+v", first.Status, first.Raw)
	}
	second := p.call(t, "POST", "/platform/migrations/run", `{}`)
	tx.Rollback()
	if second.Status != http.StatusConflict || second.Error.Code != "run_in_progress" {
		t.Errorf("second run: %d %+v, want 409 run_in_progress", second.Status, second.Raw)
	}
	if run := p.waitRun(t, first.Raw["id"].(string)); run["status"] != catalog.RunSucceeded {
		t.Errorf("first run = %+v", run)
	}
	if third := p.call(t, "POST", "/platform/migrations/run", `{"direction": "down", "to": 1}`); third.Status != http.StatusAccepted {
		t.Errorf("a run after the first ended: %d %+v", third.Status, third.Raw)
	} else {
		p.waitRun(t, third.Raw["id"].(string))
	}
}

func TestPlatform_Auth(t *testing.T) {
	p := newPlatform(t, "wordcount", 1)
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{"sub": "admin", "scope": "platform", "aud": "condo-platform", "exp": time.Now().Add(time.Hour).Unix(), "jti": "x"}
	}
	with := func(k string, v any) jwt.MapClaims {
		c := valid()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	for _, tc := range []struct {
		name, header, code string
	}{
		{"None", "", "missing_token"},
		{"EmptyBearer", "Bearer ", "missing_token"},
		{"Basic", "Basic b3BzOnB3", "missing_token"},
		{"Garbage", "Bearer not.a.token", "invalid_token"},
		{"OtherSecret", "Bearer " + sign(jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), valid()), "invalid_token"},
		{"Expired", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, with("exp", time.Now().Add(-time.Minute).Unix())), "token_expired"},
		{"NoExpiry", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, with("exp", nil)), "invalid_token"},
		{"TenantScope", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, with("scope", "tenant")), "invalid_token"},
		{"OtherAudience", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, with("aud", "condo-tenant")), "invalid_token"},
		{"AlgNone", "Bearer " + sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid()), "invalid_token"},
		{"HS512", "Bearer " + sign(jwt.SigningMethodHS512, testSecret, valid()), "invalid_token"},
	} {
		for _, route := range []struct{ method, path string }{
			{"GET", "/platform/migrations"}, {"POST", "/platform/migrations/run"}, {"GET", "/platform/migrations/runs/x"},
		} {
			t.Run(tc.name+route.path, func(t *testing.T) {
				var h []string
				if tc.header != "" {
					h = []string{"Authorization", tc.header}
				}
				res := do(t, p.srv, route.method, "localhost", route.path, strings.NewReader(`{}`), h...)
				if res.Status != http.StatusUnauthorized || res.Error.Code != tc.code || res.Error.Message == "" {
					t.Errorf("%d %+v, want 401 %s", res.Status, res.Raw, tc.code)
				}
				if res.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("no WWW-Authenticate header")
				}
			})
		}
	}
	// Nothing ran.
	if runs, _ := p.Catalog.Runs(context.Background(), 10); len(runs) != 0 {
		t.Errorf("runs = %+v", runs)
	}

	t.Run("Login", func(t *testing.T) {
		for _, tc := range []struct {
			name, body string
			status     int
			code       string
		}{
			{"WrongPassword", `{"email": "` + adminEmail + `", "password": "wrong password!"}`, 401, "invalid_credentials"},
			{"UnknownEmail", `{"email": "nobody@example.com", "password": "` + adminPassword + `"}`, 401, "invalid_credentials"},
			{"Empty", ``, 400, "missing_fields"},
			{"NotJSON", `email=x`, 400, "invalid_json"},
			{"UnknownField", `{"email": "a@b.c", "password": "x", "admin": true}`, 400, "invalid_json"},
			{"Trailing", `{"email": "a@b.c"} {}`, 400, "invalid_json"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := do(t, p.srv, "POST", "localhost", "/platform/auth/login", strings.NewReader(tc.body))
				if res.Status != tc.status || res.Error.Code != tc.code {
					t.Errorf("%d %+v, want %d %s", res.Status, res.Raw, tc.status, tc.code)
				}
			})
		}
	})
}

func TestPlatform_RunBadInput(t *testing.T) {
	p := newPlatform(t, "wordcount", 2)
	for _, tc := range []struct {
		name, body, code string
	}{
		{"NotJSON", `{"to":`, "invalid_json"},
		{"UnknownField", `{"target": 1}`, "invalid_json"},
		{"WrongType", `{"to": "latest"}`, "invalid_json"},
		{"Direction", `{"direction": "sideways"}`, "invalid_direction"},
		{"AboveLatest", `{"to": 999}`, "invalid_version"},
		{"UnknownVersion", `{"to": 50}`, "invalid_version"},
		{"NegativeVersion", `{"to": -1}`, "invalid_version"},
		{"DownWithoutTo", `{"direction": "down"}`, "invalid_version"},
		{"DownToZero", `{"direction": "down", "to": 0}`, "invalid_version"},
		{"Concurrency", `{"concurrency": 0}`, "invalid_concurrency"},
		{"Canary", `{"canary": -1}`, "invalid_canary"},
		{"MaxFailures", `{"max_failures": -1}`, "invalid_max_failures"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := p.call(t, "POST", "/platform/migrations/run", tc.body)
			if res.Status != http.StatusBadRequest || res.Error.Code != tc.code {
				t.Errorf("%d %+v, want 400 %s", res.Status, res.Raw, tc.code)
			}
		})
	}
	if res := p.call(t, "GET", "/platform/migrations/runs/nope", ""); res.Status != http.StatusNotFound || res.Error.Code != "run_not_found" {
		t.Errorf("unknown run: %d %+v", res.Status, res.Raw)
	}
	// Nothing changed.
	if runs, _ := p.Catalog.Runs(context.Background(), 10); len(runs) != 0 {
		t.Errorf("runs = %+v", runs)
	}
	if _, ok, _ := p.Catalog.SchemaTarget(context.Background()); ok {
		t.Errorf("bad input set a fleet target")
	}
}

// A server whose binary is older than the fleet (its latest is below the
// tenants' version) never starts a run it cannot finish: up and down both
// answer 409 schema_ahead at once, and no run is recorded.
func TestPlatform_RunSchemaAhead(t *testing.T) {
	ctx := context.Background()
	p := newPlatform(t, "wordcount", 3) // the server's latest is migrationstest.Version
	// A newer binary adds one more step and migrates every tenant to it.
	dir := migrationstest.Dir(t, "wordcount")
	ahead := migrationstest.Version + 1
	for name, sql := range map[string]string{"up": "CREATE TABLE newer (x);", "down": "DROP TABLE newer;"} {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%06d_newer.%s.sql", ahead, name)), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := migrations.LoadDir(dir, "tenant")
	if err != nil {
		t.Fatal(err)
	}
	newer := tenantstore.New(p.Catalog, tenantstore.Config{DataDir: p.DataDir, PoolSize: 2, Migrations: set})
	for _, id := range p.ids {
		if _, err := newer.Migrate(ctx, id, uint(ahead)); err != nil {
			t.Fatal(err)
		}
	}
	newer.Close(ctx)

	for _, body := range []string{`{}`, fmt.Sprintf(`{"direction": "down", "to": %d}`, migrationstest.Version), `{"direction": "down", "to": 1}`} {
		res := p.call(t, "POST", "/platform/migrations/run", body)
		msg := fmt.Sprintf("is at schema version %d, ahead of this binary's latest tenant migration (%d)", ahead, migrationstest.Version)
		if res.Status != http.StatusConflict || res.Error.Code != "schema_ahead" || !strings.Contains(res.Error.Message, msg) {
			t.Errorf("run %s: %d %+v, want 409 schema_ahead saying %q", body, res.Status, res.Raw, msg)
		}
	}
	if runs, _ := p.Catalog.Runs(ctx, 10); len(runs) != 0 {
		t.Errorf("runs = %+v, want none started", runs)
	}
}

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/hrana"
)

// sqlEnv is a server with tenants A and B, each with an admin and two API
// tokens for the libSQL endpoint: one with sql.write, one with sql.read.
type sqlEnv struct {
	*apitest.Env
	admin, write, read map[string]string // by tenant
}

func newSQL(t testing.TB, cfg api.Config, sc hrana.Config) *sqlEnv {
	t.Helper()
	e := &sqlEnv{Env: apitest.NewWithStreams(t, cfg, sc), admin: map[string]string{}, write: map[string]string{}, read: map[string]string{}}
	for _, id := range []string{"tenant-a", "tenant-b"} {
		e.admin[id] = e.AdminToken(t, id)
		e.write[id] = e.token(t, id, "sql.read", "sql.write")
		e.read[id] = e.token(t, id, "sql.read")
	}
	return e
}

// token mints an API token of tenant with perms.
func (e *sqlEnv) token(t testing.TB, tenant string, perms ...string) string {
	t.Helper()
	p, _ := json.Marshal(perms)
	res := e.Call(t, tenant, "POST", "/api/tokens", e.admin[tenant], `{"name": "sql", "permissions": `+string(p)+`}`)
	apitest.WantStatus(t, res, http.StatusCreated, "")
	return res.Data["token"].(string)
}

// answer is a reply of the endpoint: its status, headers and decoded JSON.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	text   string
}

// post sends body to path on tenant's host, as libsql-client-go does (no
// Content-Type), with token as the bearer when not empty.
func (e *sqlEnv) post(t *testing.T, tenant, path, token, body string, header ...string) answer {
	t.Helper()
	return e.send(t, "POST", tenant, path, token, strings.NewReader(body), header...)
}

func (e *sqlEnv) send(t *testing.T, method, tenant, path, token string, body io.Reader, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, e.Srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = tenant + ".localhost"
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := e.Srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header, text: string(b)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &a.body); err != nil {
			t.Fatalf("%s %s: %d, body is not JSON: %q", method, path, res.StatusCode, b)
		}
	}
	return a
}

// wantError fails unless a is the protocol's error answer: status, code,
// the body {"error", "message", "code"}, Content-Type application/json
// exactly (the clients read the detail only then).
func wantError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.body["code"] != code {
		t.Fatalf("got %d %s, want %d %s", a.status, a.text, status, code)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json exactly", ct)
	}
	e, _ := a.body["error"].(map[string]any)
	if m, _ := a.body["message"].(string); m == "" || e["message"] != m || e["code"] != code {
		t.Errorf("error must repeat message and code: %s", a.text)
	}
}

// pipe is a pipeline body: baton (nil for a new stream) and requests.
func pipe(baton any, reqs ...map[string]any) string {
	if reqs == nil {
		reqs = []map[string]any{}
	}
	b, _ := json.Marshal(map[string]any{"baton": baton, "requests": reqs})
	return string(b)
}

func execute(sql string) map[string]any {
	return map[string]any{"type": "execute", "stmt": map[string]any{"sql": sql}}
}

var closeReq = map[string]any{"type": "close"}

// Routes that need no stream: the index, HEAD, the -protobuf probes.
func TestHrana_Routes(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{})
	for _, c := range []struct {
		name, method, path, token string
		status                    int
		code                      string // of a JSON error
	}{
		{"V2", "GET", "/v2", "", 200, ""},
		{"V3", "GET", "/v3", "", 200, ""},
		{"V2WithToken", "GET", "/v2", e.write["tenant-a"], 200, ""},
		{"V2BadToken", "GET", "/v2", "nope", 401, "INVALID_TOKEN"},
		{"Protobuf", "GET", "/v3-protobuf", "", 404, "PROTOBUF_NOT_SUPPORTED"},
		{"ProtobufPipeline", "POST", "/v3-protobuf/pipeline", e.write["tenant-a"], 404, "PROTOBUF_NOT_SUPPORTED"},
		{"ProtobufV2", "POST", "/v2-protobuf/pipeline", "", 404, "PROTOBUF_NOT_SUPPORTED"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := e.send(t, c.method, "tenant-a", c.path, c.token, nil)
			if c.code != "" {
				wantError(t, a, c.status, c.code)
				return
			}
			if a.status != c.status || !strings.Contains(a.text, "Hrana") {
				t.Errorf("%d %q", a.status, a.text)
			}
			if head := e.send(t, "HEAD", "tenant-a", c.path, c.token, nil); head.status != c.status || head.text != "" {
				t.Errorf("HEAD: %d, %d bytes", head.status, len(head.text))
			}
		})
	}
	if a := e.send(t, "GET", "nowhere", "/v2", "", nil); a.status != 404 || a.header.Get("Content-Type") != "application/json" {
		t.Errorf("unknown host: %d %s", a.status, a.text)
	}
}

// Credentials: none 401, bad 401, without sql.* 403, another tenant's 401
// (and a security event); every refusal in the protocol's shape.
func TestHrana_Auth(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{})
	noSQL := e.token(t, "tenant-a", "content.read")
	body := pipe(nil, execute("SELECT 1"), closeReq)
	for _, c := range []struct {
		name, tenant, token string
		status              int
		code                string
	}{
		{"None", "tenant-a", "", 401, "MISSING_TOKEN"},
		{"Garbage", "tenant-a", "garbage", 401, "INVALID_TOKEN"},
		{"NoSQLPermission", "tenant-a", noSQL, 403, "PERMISSION_DENIED"},
		{"OtherTenantsToken", "tenant-b", e.write["tenant-a"], 401, "INVALID_TOKEN"},
		{"OtherTenantsJWT", "tenant-b", e.admin["tenant-a"], 401, "INVALID_TOKEN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/v2/pipeline", "/v3/pipeline", "/v3/cursor"} {
				wantError(t, e.post(t, c.tenant, path, c.token, body), c.status, c.code)
			}
		})
	}
	if ev := e.PlatformEvents(t, "cross_tenant_token"); len(ev) == 0 {
		t.Error("a token of tenant A on B's host was not recorded")
	}
	if n := e.Streams.Streams(); n != 0 {
		t.Errorf("%d streams opened by refused requests", n)
	}
}

// Bodies the protocol refuses get 400 (413 when too large), and open no
// stream.
func TestHrana_BadRequests(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{})
	tok := e.write["tenant-a"]
	forged := strings.Repeat("A", 64)
	for _, c := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"Empty", "", 400, "PROTO_ERROR"},
		{"NotJSON", "SELECT 1", 400, "PROTO_ERROR"},
		{"RequestsNotList", `{"requests": {}}`, 400, "PROTO_ERROR"},
		{"UnknownType", pipe(nil, map[string]any{"type": "drop_everything"}), 400, "PROTO_ERROR"},
		{"AfterClose", pipe(nil, closeReq, execute("SELECT 1")), 400, "STREAM_CLOSED"},
		{"SQLOf1MB", pipe(nil, execute("SELECT '"+strings.Repeat("x", 1<<20)+"'")), 400, "SQL_TOO_LONG"},
		{"ForwardCondition", pipe(nil, map[string]any{"type": "batch", "batch": map[string]any{"steps": []any{
			map[string]any{"stmt": map[string]any{"sql": "SELECT 1"}, "condition": map[string]any{"type": "ok", "step": 1}},
			map[string]any{"stmt": map[string]any{"sql": "SELECT 2"}}}}}), 400, "PROTO_ERROR"},
		{"ForgedBaton", pipe(forged, execute("SELECT 1")), 400, "BATON_INVALID"},
		{"ShortBaton", pipe("abc", execute("SELECT 1")), 400, "BATON_INVALID"},
		{"TooLarge", `{"requests": [{"type": "execute", "stmt": {"sql": "` + strings.Repeat(" ", hrana.DefaultMaxBodyBytes) + `"}}]}`, 413, "BODY_TOO_LARGE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, e.post(t, "tenant-a", "/v2/pipeline", tok, c.body), c.status, c.code)
		})
	}
	if n := e.Streams.Streams(); n != 0 {
		t.Errorf("%d streams opened by refused requests", n)
	}
	if st := e.Store.Stats(); st.Pinned != 0 {
		t.Errorf("pool stats %+v: a refused request pinned a tenant", st)
	}
}

// Any origin may call the endpoint, whatever the tenant's own CORS
// policy (none here): preflights are answered, and answers (errors too)
// are readable.
func TestHrana_CORS(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{})
	pre := e.send(t, "OPTIONS", "tenant-a", "/v2/pipeline", "", nil, "Origin", "https://app.example.net",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")
	h := pre.header
	if pre.status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight: %d %v", pre.status, h)
	}
	a := e.post(t, "tenant-a", "/v2/pipeline", "", pipe(nil), "Origin", "https://app.example.net")
	if a.status != 401 || a.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("a refusal a browser cannot read: %d %v", a.status, a.header)
	}
	// The CMS routes keep the tenant's policy (none: no origin).
	cms := e.send(t, "OPTIONS", "tenant-a", "/api/tenant", "", nil, "Origin", "https://app.example.net", "Access-Control-Request-Method", "GET")
	if cms.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("the CMS routes took the endpoint's policy: %v", cms.header)
	}
}

// A server built without a registry answers 503 in the protocol's shape.
func TestHrana_NoRegistry(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{})
	bare := api.New(e.Catalog, e.Store, api.Config{Secret: apitest.Secret, Jobs: nil})
	srv := httptest.NewServer(bare)
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/v2/pipeline", bytes.NewReader([]byte(pipe(nil))))
	req.Host = "tenant-a.localhost"
	req.Header.Set("Authorization", "Bearer "+e.write["tenant-a"])
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	json.NewDecoder(res.Body).Decode(&body)
	if res.StatusCode != 503 || body["code"] != "SQL_UNAVAILABLE" || res.Header.Get("Retry-After") == "" {
		t.Errorf("%d %v %v", res.StatusCode, body, res.Header)
	}
}

// holds reports the pool's holds on a tenant's handle (0, 0 when closed).
func (e *sqlEnv) holds(t *testing.T, tenant string) (refs, pins int) {
	refs, pins, _ = e.Store.Holds(tenant)
	return refs, pins
}

// count reads n from a query outside any stream, on the tenant's reader.
func (e *sqlEnv) count(t *testing.T, tenant, query string) int {
	t.Helper()
	h, release, err := e.Store.Acquire(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var n int
	if err := h.Reader().QueryRowContext(context.Background(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

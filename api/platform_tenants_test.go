package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/plans"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// tenantAPI is a real server on a fresh data directory, with a platform
// admin's token.
type tenantAPI struct {
	*tenantstoretest.Env
	srv   *httptest.Server
	api   *api.Server
	token string
}

func newTenantAPI(t *testing.T) *tenantAPI {
	t.Helper()
	return newTenantAPIWith(t, catalog.Config{})
}

// newTenantAPIWith is newTenantAPI with a catalog configured by cfg.
func newTenantAPIWith(t *testing.T, cfg catalog.Config) *tenantAPI {
	t.Helper()
	env := tenantstoretest.MustOpen(t, cfg, tenantstore.Config{PoolSize: 8})
	if _, err := env.Catalog.CreateAdmin(context.Background(), apitest.AdminEmail, apitest.AdminPassword); err != nil {
		t.Fatal(err)
	}
	p := &tenantAPI{Env: env}
	p.srv, p.api = apitest.Serve(t, env.Catalog, env.Store, api.Config{Secret: apitest.Secret})
	res := p.send(t, "POST", "/platform/auth/login", `{"email": "`+apitest.AdminEmail+`", "password": "`+apitest.AdminPassword+`"}`)
	if err := json.Unmarshal(res.Body, &struct {
		Token *string `json:"token"`
	}{&p.token}); err != nil || p.token == "" {
		t.Fatalf("login: %d %s", res.Status, res.Body)
	}
	return p
}

// tenantReply is a decoded reply of the platform tenant API.
type tenantReply struct {
	Status int             `json:"-"`
	Body   []byte          `json:"-"`
	Data   json.RawMessage `json:"data"`
	Meta   struct {
		Total, Limit, Offset int
	} `json:"meta"`
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Header http.Header `json:"-"`
}

// send makes a request without a token; header is name, value pairs.
func (p *tenantAPI) send(t *testing.T, method, path, body string, header ...string) tenantReply {
	t.Helper()
	req, err := http.NewRequest(method, p.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "localhost"
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := p.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	r := tenantReply{Status: res.StatusCode, Header: res.Header}
	r.Body, _ = io.ReadAll(res.Body)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: Content-Type %q, body %q", method, path, ct, r.Body)
	}
	if err := json.Unmarshal(r.Body, &r); err != nil {
		t.Fatalf("%s %s: body is not JSON: %q", method, path, r.Body)
	}
	return r
}

// call makes a request as the platform admin.
func (p *tenantAPI) call(t *testing.T, method, path, body string) tenantReply {
	t.Helper()
	return p.send(t, method, path, body, "Authorization", "Bearer "+p.token)
}

// mustTenantCall makes a request as the platform admin and decodes the data of
// a reply with status want.
func mustTenantCall[T any](t *testing.T, p *tenantAPI, want int, method, path, body string) T {
	t.Helper()
	r := p.call(t, method, path, body)
	if r.Status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Body, want)
	}
	var v T
	if err := json.Unmarshal(r.Data, &v); err != nil {
		t.Fatalf("%s %s: data %s: %v", method, path, r.Data, err)
	}
	return v
}

// snapshot is everything the tenant API can change: the catalog's tenants
// with their domains, and the tenant directories on disk.
func (p *tenantAPI) snapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	list, _, err := p.Catalog.Tenants(ctx, catalog.TenantFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var all []*catalog.Tenant
	for _, l := range list {
		ten, err := p.Catalog.Tenant(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ten)
	}
	dirs, _ := os.ReadDir(p.DataDir + "/tenants")
	var names []string
	for _, d := range dirs {
		names = append(names, d.Name())
	}
	b, _ := json.Marshal(map[string]any{"tenants": all, "dirs": names})
	return string(b)
}

// tenantCase is a request that must fail with a status and error code.
type tenantCase struct {
	name, method, path, body string
	wantStatus               int
	wantCode                 string
}

// runTenantFailures runs failing cases and checks that none of them changed
// anything.
func runTenantFailures(t *testing.T, p *tenantAPI, cases []tenantCase) {
	t.Helper()
	before := p.snapshot(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := p.call(t, tc.method, tc.path, tc.body)
			if r.Status != tc.wantStatus || r.Error.Code != tc.wantCode || r.Error.Message == "" {
				t.Errorf("%d %s, want %d %s", r.Status, r.Body, tc.wantStatus, tc.wantCode)
			}
			if len(r.Error.Message) > 300 {
				t.Errorf("message of %d bytes", len(r.Error.Message))
			}
		})
	}
	if after := p.snapshot(t); after != before {
		t.Errorf("refused requests changed something:\n%s\nwas\n%s", after, before)
	}
}

// platformTenantRoutes are the routes of this API, with a path for each.
var platformTenantRoutes = []struct{ method, route, path string }{
	{"GET", "/platform/tenants", "/platform/tenants"},
	{"POST", "/platform/tenants", "/platform/tenants"},
	{"GET", "/platform/tenants/:id", "/platform/tenants/acme"},
	{"PATCH", "/platform/tenants/:id", "/platform/tenants/acme"},
	{"POST", "/platform/tenants/:id/suspend", "/platform/tenants/acme/suspend"},
	{"POST", "/platform/tenants/:id/resume", "/platform/tenants/acme/resume"},
	{"GET", "/platform/tenants/:id/domains", "/platform/tenants/acme/domains"},
	{"POST", "/platform/tenants/:id/domains", "/platform/tenants/acme/domains"},
	{"DELETE", "/platform/tenants/:id/domains/:domain", "/platform/tenants/acme/domains/acme.example.com"},
	{"GET", "/platform/tenants/:id/export", "/platform/tenants/acme/export"},
	{"POST", "/platform/tenants/import", "/platform/tenants/import"},
	{"DELETE", "/platform/tenants/:id", "/platform/tenants/acme"},
	{"POST", "/platform/tenants/:id/purge", "/platform/tenants/acme/purge"},
	{"GET", "/platform/tenants/:id/backups", "/platform/tenants/acme/backups"},
	{"POST", "/platform/tenants/:id/restore-backup", "/platform/tenants/acme/restore-backup"},
	{"POST", "/platform/tenants/:id/verify-backup", "/platform/tenants/acme/verify-backup"},
	{"GET", "/platform/audit", "/platform/audit"},
	{"GET", "/platform/jobs", "/platform/jobs"},
	{"GET", "/platform/plans", "/platform/plans"},
}

func TestPlatformTenant_Routes(t *testing.T) {
	p := newTenantAPI(t)
	got := map[string]bool{}
	for _, r := range p.api.Routes() {
		got[r.Method+" "+r.Path] = true
	}
	for _, r := range platformTenantRoutes {
		if !got[r.method+" "+r.route] {
			t.Errorf("%s %s is not registered", r.method, r.route)
		}
	}
}

func TestPlatformTenant_Auth(t *testing.T) {
	p := newTenantAPI(t)
	ctx := context.Background()
	if _, err := p.Store.Create(ctx, catalog.NewTenant{ID: "acme", Domains: []string{"acme.example.com"}}); err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{"POST /platform/tenants": `{"id": "new"}`, "PATCH /platform/tenants/:id": `{"name": "Hacked"}`,
		"POST /platform/tenants/:id/domains": `{"domain": "new.example.com"}`}
	before := p.snapshot(t)
	for _, auth := range []struct{ name, header, code string }{
		{"NoToken", "", "missing_token"},
		{"NotBearer", "Basic b3BzOnB3", "missing_token"},
		{"BadToken", "Bearer not.a.token", "invalid_token"},
		{"TamperedToken", "Bearer " + p.token + "x", "invalid_token"},
	} {
		for _, r := range platformTenantRoutes {
			t.Run(auth.name+"/"+r.method+r.path, func(t *testing.T) {
				var h []string
				if auth.header != "" {
					h = []string{"Authorization", auth.header}
				}
				res := p.send(t, r.method, r.path, bodies[r.method+" "+r.route], h...)
				if res.Status != http.StatusUnauthorized || res.Error.Code != auth.code {
					t.Errorf("%d %s, want 401 %s", res.Status, res.Body, auth.code)
				}
				if res.Header.Get("WWW-Authenticate") == "" {
					t.Error("no WWW-Authenticate header")
				}
			})
		}
	}
	if after := p.snapshot(t); after != before {
		t.Errorf("unauthenticated requests changed something:\n%s\nwas\n%s", after, before)
	}
}

func TestPlatformTenant_Create(t *testing.T) {
	p := newTenantAPI(t)
	for _, tc := range []struct {
		name, body string
		want       catalog.Tenant
	}{
		{"Defaults", `{"id": "acme"}`, catalog.Tenant{ID: "acme", Name: "acme", Plan: "free", Status: "active",
			StorageQuota: plans.Builtin().For("free").StorageQuota, UserLimit: plans.Builtin().For("free").UserLimit}},
		{"Everything", `{"id": "beta", "name": "Beta Ltd ✓", "plan": "pro", "region": "ams", "domains": ["beta.example.com", "www.beta.example.com"]}`,
			catalog.Tenant{ID: "beta", Name: "Beta Ltd ✓", Plan: "pro", Status: "active", Region: "ams",
				StorageQuota: plans.Builtin().For("pro").StorageQuota, UserLimit: plans.Builtin().For("pro").UserLimit,
				Domains: []catalog.Domain{{Domain: "beta.example.com", Primary: true}, {Domain: "www.beta.example.com"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := p.call(t, "POST", "/platform/tenants", tc.body)
			if r.Status != http.StatusCreated {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			if got, want := r.Header.Get("Location"), "/platform/tenants/"+tc.want.ID; got != want {
				t.Errorf("Location = %q, want %q", got, want)
			}
			var got catalog.Tenant
			json.Unmarshal(r.Data, &got)
			checkPlatformTenant(t, got, tc.want)
			// The database exists and serves the tenant's hosts.
			if path, _ := p.Store.Path(tc.want.ID); !tenantFileExists(path) {
				t.Errorf("no database at %s", path)
			}
			hosts := []string{tc.want.ID + ".localhost"}
			for _, d := range tc.want.Domains {
				hosts = append(hosts, d.Domain)
			}
			for _, h := range hosts {
				if res := apitest.Do(t, p.srv, "GET", h, "/api/tenant", nil); res.Status != 200 || res.Data["id"] != tc.want.ID {
					t.Errorf("GET /api/tenant on %s: %d %+v", h, res.Status, res.Raw)
				}
			}
		})
	}

	const path = "/platform/tenants"
	runTenantFailures(t, p, []tenantCase{
		{"Empty", "POST", path, ``, 400, "invalid_tenant_id"},
		{"NotJSON", "POST", path, `{"id": "x"`, 400, "invalid_json"},
		{"Array", "POST", path, `[{"id": "x"}]`, 400, "invalid_json"},
		{"UnknownField", "POST", path, `{"id": "x", "status": "active"}`, 400, "invalid_json"},
		{"WrongType", "POST", path, `{"id": "x", "domains": "x.example.com"}`, 400, "invalid_json"},
		{"Trailing", "POST", path, `{"id": "x"} {"id": "y"}`, 400, "invalid_json"},
		{"BadUTF8", "POST", path, "{\"id\": \"x\", \"name\": \"a\xffb\"}", 400, "invalid_json"},
		{"UpperCaseID", "POST", path, `{"id": "Acme2"}`, 400, "invalid_tenant_id"},
		{"TraversalID", "POST", path, `{"id": "../x"}`, 400, "invalid_tenant_id"},
		{"DotID", "POST", path, `{"id": "."}`, 400, "invalid_tenant_id"},
		{"HugeID", "POST", path, `{"id": "` + strings.Repeat("a", 10000) + `"}`, 400, "invalid_tenant_id"},
		{"HugeName", "POST", path, `{"id": "x", "name": "` + strings.Repeat("n", 10000) + `"}`, 400, "invalid_name"},
		{"BlankName", "POST", path, `{"id": "x", "name": "   "}`, 400, "invalid_name"},
		{"UnknownPlan", "POST", path, `{"id": "x", "plan": "platinum"}`, 400, "invalid_plan"},
		{"BadRegion", "POST", path, `{"id": "x", "region": "Mars Base"}`, 400, "invalid_region"},
		{"BadDomain", "POST", path, `{"id": "x", "domains": ["X.example.com"]}`, 400, "invalid_domain"},
		{"DomainWithPort", "POST", path, `{"id": "x", "domains": ["x.example.com:80"]}`, 400, "invalid_domain"},
		{"HugeDomain", "POST", path, `{"id": "x", "domains": ["` + strings.Repeat("a.", 5000) + `com"]}`, 400, "invalid_domain"},
		{"SubdomainHost", "POST", path, `{"id": "x", "domains": ["acme.localhost"]}`, 400, "invalid_domain"},
		{"DuplicateID", "POST", path, `{"id": "acme"}`, 409, "tenant_exists"},
		{"TakenDomain", "POST", path, `{"id": "x", "domains": ["ok.example.com", "beta.example.com"]}`, 409, "domain_taken"},
		{"DomainTwice", "POST", path, `{"id": "x", "domains": ["x.example.com", "x.example.com"]}`, 409, "domain_taken"},
		{"TooLarge", "POST", path, `{"id": "x", "name": "` + strings.Repeat("n", 70<<10) + `"}`, 413, "body_too_large"},
		{"LocationNotAURL", "POST", path, `{"id": "x", "location": "/var/db/x.db", "location_token": "t"}`, 400, "invalid_location"},
		{"LocationWithPassword", "POST", path, `{"id": "x", "location": "https://u:hunter2@db.example.com"}`, 400, "invalid_location"},
		{"TokenWithoutLocation", "POST", path, `{"id": "x", "location_token": "t"}`, 400, "invalid_location"},
	})
}

// A tenant at a remote location (another Condo server's tenant): created
// with its token, which no answer carries, and served from there.
func TestPlatformTenant_CreateRemote(t *testing.T) {
	p := newTenantAPI(t)
	loc := apitest.New(t, api.Config{})
	var token string
	loc.AuthStore(t, "tenant-a", func(st *auth.Store) {
		var err error
		if _, token, err = st.CreateAPIToken(context.Background(), auth.NewAPIToken{Name: "location",
			Permissions: auth.MustPerms(auth.SQLRead, auth.SQLWrite, auth.SQLOwner)}); err != nil {
			t.Fatal(err)
		}
	})
	location := loc.Srv.URL + api.TenantPathPrefix + "tenant-a"
	body, _ := json.Marshal(map[string]string{"id": "far", "location": location, "location_token": token})
	r := p.call(t, "POST", "/platform/tenants", string(body))
	if r.Status != http.StatusCreated {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var got catalog.Tenant
	json.Unmarshal(r.Data, &got)
	if got.Location != location {
		t.Errorf("location %q, want %q", got.Location, location)
	}
	for _, ans := range []string{string(r.Body), string(p.call(t, "GET", "/platform/tenants/far", "").Body), string(p.call(t, "GET", "/platform/tenants", "").Body)} {
		if strings.Contains(ans, token) {
			t.Fatalf("an answer carries the location token: %s", ans)
		}
	}
	if path, _ := p.Store.Path("far"); tenantFileExists(path) {
		t.Errorf("a remote tenant got a file at %s", path)
	}
	if res := apitest.Do(t, p.srv, "GET", "far.localhost", "/api/tenant", nil); res.Status != 200 || res.Data["id"] != "far" {
		t.Errorf("GET /api/tenant of the remote tenant: %d %+v", res.Status, res.Raw)
	}
}

func TestPlatformTenant_List(t *testing.T) {
	p := newTenantAPI(t)
	ctx := context.Background()
	for _, in := range []catalog.NewTenant{{ID: "acme", Name: "Acme Corp"}, {ID: "beta", Name: "Beta"},
		{ID: "gamma", Name: "Corporate Gamma"}, {ID: "delta", Plan: "pro"}, {ID: "eps", Region: "ams"}} {
		if _, err := p.Store.Create(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	p.Catalog.SetStatus(ctx, "beta", catalog.StatusSuspended)
	if err := p.Catalog.RecordSchemas(ctx, "", []catalog.SchemaRecord{{TenantID: "gamma", State: &catalog.SchemaState{Version: 999}}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, query string
		wantIDs     []string
		total       int
		limit       int
		offset      int
	}{
		{"All", "", []string{"acme", "beta", "delta", "eps", "gamma"}, 5, 50, 0},
		{"QueryName", "?q=CORP", []string{"acme", "gamma"}, 2, 50, 0},
		{"QueryID", "?q=ta", []string{"beta", "delta"}, 2, 50, 0},
		{"Status", "?status=suspended", []string{"beta"}, 1, 50, 0},
		{"Page", "?limit=2&offset=1", []string{"beta", "delta"}, 5, 2, 1},
		{"PastTheEnd", "?offset=10", []string{}, 5, 50, 10},
		{"NoMatch", "?q=zzz", []string{}, 0, 50, 0},
		{"MaxLimit", "?limit=1000&status=active", []string{"acme", "delta", "eps", "gamma"}, 4, 1000, 0},
		{"Plan", "?plan=pro", []string{"delta"}, 1, 50, 0},
		{"PlanAndQuery", "?plan=pro&q=acme", []string{}, 0, 50, 0},
		{"Region", "?region=ams", []string{"eps"}, 1, 50, 0},
		{"SchemaVersion", "?schema_version=999", []string{"gamma"}, 1, 50, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := p.call(t, "GET", "/platform/tenants"+tc.query, "")
			var list []catalog.Tenant
			if err := json.Unmarshal(r.Data, &list); r.Status != 200 || err != nil || list == nil {
				t.Fatalf("%d %s, want 200 with a data array", r.Status, r.Body)
			}
			ids := []string{}
			for _, ten := range list {
				ids = append(ids, ten.ID)
			}
			if !slices.Equal(ids, tc.wantIDs) {
				t.Errorf("ids = %v, want %v", ids, tc.wantIDs)
			}
			if m := r.Meta; m.Total != tc.total || m.Limit != tc.limit || m.Offset != tc.offset {
				t.Errorf("meta = %+v, want total %d limit %d offset %d", m, tc.total, tc.limit, tc.offset)
			}
		})
	}
	t.Run("Domains", func(t *testing.T) {
		// Each listed tenant carries its own domains, primary first, as
		// GET /platform/tenants/:id shows them.
		for _, d := range []struct {
			id, domain string
			primary    bool
		}{{"acme", "acme.example.com", false}, {"acme", "www.acme.example.com", true}, {"gamma", "gamma.example.com", false}} {
			if _, err := p.Catalog.AddDomain(ctx, d.id, d.domain, d.primary); err != nil {
				t.Fatal(err)
			}
		}
		list := mustTenantCall[[]catalog.Tenant](t, p, 200, "GET", "/platform/tenants?limit=3", "")
		got := map[string][]string{}
		for _, ten := range list {
			got[ten.ID] = []string{}
			for _, d := range ten.Domains {
				got[ten.ID] = append(got[ten.ID], fmt.Sprintf("%s primary=%v", d.Domain, d.Primary))
			}
		}
		want := map[string][]string{
			"acme":  {"www.acme.example.com primary=true", "acme.example.com primary=false"},
			"beta":  {},
			"delta": {},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("listed domains = %v, want %v", got, want)
		}
	})
	const path = "/platform/tenants"
	runTenantFailures(t, p, []tenantCase{
		{"ZeroLimit", "GET", path + "?limit=0", "", 400, "invalid_limit"},
		{"LimitTooBig", "GET", path + "?limit=1001", "", 400, "invalid_limit"},
		{"LimitNotNumber", "GET", path + "?limit=ten", "", 400, "invalid_limit"},
		{"NegativeOffset", "GET", path + "?offset=-1", "", 400, "invalid_offset"},
		{"HugeOffset", "GET", path + "?offset=99999999999999999999", "", 400, "invalid_offset"},
		{"UnknownStatus", "GET", path + "?status=deleted", "", 400, "invalid_status"},
		{"HugeQuery", "GET", path + "?q=" + strings.Repeat("q", 1000), "", 400, "invalid_query"},
		{"BadUTF8Query", "GET", path + "?q=%FF", "", 400, "invalid_query"},
		{"SchemaVersionNotNumber", "GET", path + "?schema_version=v2", "", 400, "invalid_schema_version"},
	})
}

func TestPlatformTenant_Get(t *testing.T) {
	p := newTenantAPI(t)
	if _, err := p.Store.Create(context.Background(), catalog.NewTenant{ID: "acme", Name: "Acme", Domains: []string{"acme.example.com"}}); err != nil {
		t.Fatal(err)
	}
	got := mustTenantCall[catalog.Tenant](t, p, 200, "GET", "/platform/tenants/acme", "")
	checkPlatformTenant(t, got, catalog.Tenant{ID: "acme", Name: "Acme", Plan: "free", Status: "active",
		StorageQuota: plans.Builtin().For("free").StorageQuota, UserLimit: plans.Builtin().For("free").UserLimit,
		Domains: []catalog.Domain{{Domain: "acme.example.com", Primary: true}}})
	runTenantFailures(t, p, []tenantCase{
		{"Unknown", "GET", "/platform/tenants/nobody", "", 404, "tenant_not_found"},
		{"UpperCase", "GET", "/platform/tenants/ACME", "", 400, "invalid_tenant_id"},
		{"Underscore", "GET", "/platform/tenants/a_b", "", 400, "invalid_tenant_id"},
		{"Dots", "GET", "/platform/tenants/a.b", "", 400, "invalid_tenant_id"},
		{"Huge", "GET", "/platform/tenants/" + strings.Repeat("a", 5000), "", 400, "invalid_tenant_id"},
	})
}

func TestPlatformTenant_Update(t *testing.T) {
	p := newTenantAPI(t)
	if _, err := p.Store.Create(context.Background(), catalog.NewTenant{ID: "acme", Name: "Acme", Domains: []string{"acme.example.com"}}); err != nil {
		t.Fatal(err)
	}
	free, pro, ent := plans.Builtin().For("free"), plans.Builtin().For("pro"), plans.Builtin().For("enterprise")
	// Each step applies to the tenant as the step before left it.
	want := catalog.Tenant{ID: "acme", Name: "Acme", Plan: "free", Status: "active",
		StorageQuota: free.StorageQuota, UserLimit: free.UserLimit, Domains: []catalog.Domain{{Domain: "acme.example.com", Primary: true}}}
	for _, step := range []struct {
		name, body string
		change     func(*catalog.Tenant)
	}{
		{"Nothing", `{}`, func(*catalog.Tenant) {}},
		{"EmptyBody", ``, func(*catalog.Tenant) {}},
		{"Name", `{"name": "Acme Inc. ✓"}`, func(t *catalog.Tenant) { t.Name = "Acme Inc. ✓" }},
		{"Plan", `{"plan": "pro"}`, func(t *catalog.Tenant) { t.Plan, t.StorageQuota, t.UserLimit = "pro", pro.StorageQuota, pro.UserLimit }},
		{"Limits", `{"storage_quota": 0, "user_limit": 3}`, func(t *catalog.Tenant) { t.StorageQuota, t.UserLimit = 0, 3 }},
		{"SamePlanKeepsLimits", `{"plan": "pro"}`, func(*catalog.Tenant) {}},
		{"PlanAndLimit", `{"plan": "enterprise", "storage_quota": 42}`, func(t *catalog.Tenant) {
			t.Plan, t.StorageQuota, t.UserLimit = "enterprise", 42, ent.UserLimit
		}},
		{"NullLeavesAlone", `{"name": null, "plan": null}`, func(*catalog.Tenant) {}},
		{"Branding", `{"branding": {"color": "#123456", "logo": {"url": "https://x.example.com/l.png"}}}`, func(t *catalog.Tenant) {
			t.Branding = json.RawMessage(`{"color":"#123456","logo":{"url":"https://x.example.com/l.png"}}`)
		}},
		{"Everything", `{"name": "A", "plan": "free", "user_limit": 1, "branding": {}}`, func(t *catalog.Tenant) {
			t.Name, t.Plan, t.StorageQuota, t.UserLimit, t.Branding = "A", "free", free.StorageQuota, 1, json.RawMessage(`{}`)
		}},
	} {
		t.Run(step.name, func(t *testing.T) {
			step.change(&want)
			got := mustTenantCall[catalog.Tenant](t, p, 200, "PATCH", "/platform/tenants/acme", step.body)
			checkPlatformTenant(t, got, want)
			// The tenant's own API sees the change at once.
			res := apitest.Do(t, p.srv, "GET", "acme.localhost", "/api/tenant", nil)
			if b, _ := json.Marshal(res.Data["branding"]); res.Data["name"] != want.Name || (want.Branding != nil && string(b) != string(want.Branding)) {
				t.Errorf("GET /api/tenant: %+v", res.Raw)
			}
		})
	}

	const path = "/platform/tenants/acme"
	bigBranding := `{"branding": {"pad": "` + strings.Repeat("x", catalog.MaxBranding) + `"}}`
	runTenantFailures(t, p, []tenantCase{
		{"NotJSON", "PATCH", path, `{"name": `, 400, "invalid_json"},
		{"UnknownField", "PATCH", path, `{"name": "x", "status": "archived"}`, 400, "invalid_json"},
		{"IDField", "PATCH", path, `{"id": "other"}`, 400, "invalid_json"},
		{"WrongType", "PATCH", path, `{"user_limit": "many"}`, 400, "invalid_json"},
		{"FractionalLimit", "PATCH", path, `{"user_limit": 1.5}`, 400, "invalid_json"},
		{"LimitOverflow", "PATCH", path, `{"storage_quota": 99999999999999999999}`, 400, "invalid_json"},
		{"BadUTF8", "PATCH", path, "{\"name\": \"\xfe\xff\"}", 400, "invalid_json"},
		{"UnknownPlan", "PATCH", path, `{"plan": "platinum", "name": "Changed"}`, 400, "invalid_plan"},
		{"HugePlan", "PATCH", path, `{"plan": "` + strings.Repeat("p", 20000) + `"}`, 400, "invalid_plan"},
		{"NegativeQuota", "PATCH", path, `{"storage_quota": -1}`, 400, "invalid_limit"},
		{"NegativeUsers", "PATCH", path, `{"plan": "pro", "user_limit": -10}`, 400, "invalid_limit"},
		{"BlankName", "PATCH", path, `{"name": ""}`, 400, "invalid_name"},
		{"HugeName", "PATCH", path, `{"name": "` + strings.Repeat("n", 20000) + `"}`, 400, "invalid_name"},
		{"BrandingArray", "PATCH", path, `{"branding": ["red"]}`, 400, "invalid_branding"},
		{"BrandingString", "PATCH", path, `{"branding": "red"}`, 400, "invalid_branding"},
		{"BrandingNull", "PATCH", path, `{"branding": null}`, 400, "invalid_branding"},
		{"BrandingTooBig", "PATCH", path, bigBranding, 400, "invalid_branding"},
		{"TooLarge", "PATCH", path, `{"name": "` + strings.Repeat("n", 70<<10) + `"}`, 413, "body_too_large"},
		{"UnknownTenant", "PATCH", "/platform/tenants/nobody", `{"name": "x"}`, 404, "tenant_not_found"},
		{"UnknownTenantEmpty", "PATCH", "/platform/tenants/nobody", `{}`, 404, "tenant_not_found"},
		{"BadID", "PATCH", "/platform/tenants/Nope", `{"name": "x"}`, 400, "invalid_tenant_id"},
	})
}

func TestPlatformTenant_SuspendResume(t *testing.T) {
	p := newTenantAPI(t)
	ctx := context.Background()
	p.MustCreate(t, "acme", "gone")
	if _, err := p.Catalog.SetStatus(ctx, "gone", catalog.StatusArchived); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name, action, wantStatus string
		wantHost                 int // GET /api/tenant on the tenant's host afterwards
	}{
		{"Suspend", "suspend", "suspended", 403},
		{"SuspendAgain", "suspend", "suspended", 403},
		{"Resume", "resume", "active", 200},
		{"ResumeAgain", "resume", "active", 200},
	} {
		t.Run(step.name, func(t *testing.T) {
			got := mustTenantCall[catalog.Tenant](t, p, 200, "POST", "/platform/tenants/acme/"+step.action, "")
			if got.ID != "acme" || got.Status != step.wantStatus {
				t.Errorf("tenant = %s %s, want acme %s", got.ID, got.Status, step.wantStatus)
			}
			if res := apitest.Do(t, p.srv, "GET", "acme.localhost", "/api/tenant", nil); res.Status != step.wantHost {
				t.Errorf("GET /api/tenant: %d, want %d", res.Status, step.wantHost)
			}
		})
	}
	var cases []tenantCase
	for _, action := range []string{"suspend", "resume"} {
		cases = append(cases,
			tenantCase{"Unknown/" + action, "POST", "/platform/tenants/nobody/" + action, "", 404, "tenant_not_found"},
			tenantCase{"BadID/" + action, "POST", "/platform/tenants/-x/" + action, "", 400, "invalid_tenant_id"},
			tenantCase{"Archived/" + action, "POST", "/platform/tenants/gone/" + action, "", 409, "tenant_archived"},
		)
	}
	runTenantFailures(t, p, cases)
}

func TestPlatformTenant_Domains(t *testing.T) {
	p := newTenantAPI(t)
	ctx := context.Background()
	for _, in := range []catalog.NewTenant{{ID: "acme", Domains: []string{"acme.example.com"}}, {ID: "beta", Domains: []string{"beta.example.com"}}} {
		if _, err := p.Store.Create(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	const path = "/platform/tenants/acme/domains"
	list := func(t *testing.T) []string {
		var out []string
		for _, d := range mustTenantCall[[]catalog.Domain](t, p, 200, "GET", path, "") {
			if d.TenantID != "acme" {
				t.Errorf("domain %+v listed for acme", d)
			}
			out = append(out, d.Domain+map[bool]string{true: "*"}[d.Primary])
		}
		return out
	}
	resolves := func(t *testing.T, host, want string) {
		t.Helper()
		res := apitest.Do(t, p.srv, "GET", host, "/api/tenant", nil)
		if got, _ := res.Data["id"].(string); got != want {
			t.Errorf("%s reaches %q (%d), want %q", host, got, res.Status, want)
		}
	}

	t.Run("List", func(t *testing.T) {
		if got, want := list(t), []string{"acme.example.com*"}; !slices.Equal(got, want) {
			t.Errorf("domains = %v, want %v", got, want)
		}
	})
	t.Run("Add", func(t *testing.T) {
		d := mustTenantCall[catalog.Domain](t, p, 201, "POST", path, `{"domain": "www.acme.example.com"}`)
		if d.Domain != "www.acme.example.com" || d.TenantID != "acme" || d.Primary {
			t.Errorf("added %+v", d)
		}
		resolves(t, "www.acme.example.com", "acme")
	})
	t.Run("AddPrimary", func(t *testing.T) {
		if d := mustTenantCall[catalog.Domain](t, p, 201, "POST", path, `{"domain": "acme.example.org", "primary": true}`); !d.Primary {
			t.Errorf("added %+v, want primary", d)
		}
		if got, want := list(t), []string{"acme.example.org*", "acme.example.com", "www.acme.example.com"}; !slices.Equal(got, want) {
			t.Errorf("domains = %v, want %v", got, want)
		}
	})
	t.Run("RemovePrimary", func(t *testing.T) {
		d := mustTenantCall[catalog.Domain](t, p, 200, "DELETE", path+"/acme.example.org", "")
		if d.Domain != "acme.example.org" || d.TenantID != "acme" {
			t.Errorf("removed %+v", d)
		}
		if got, want := list(t), []string{"acme.example.com*", "www.acme.example.com"}; !slices.Equal(got, want) {
			t.Errorf("domains = %v, want %v", got, want)
		}
		resolves(t, "acme.example.org", "")
	})

	runTenantFailures(t, p, []tenantCase{
		{"ListUnknownTenant", "GET", "/platform/tenants/nobody/domains", "", 404, "tenant_not_found"},
		{"ListBadID", "GET", "/platform/tenants/A/domains", "", 400, "invalid_tenant_id"},
		{"AddNotJSON", "POST", path, `domain=x.example.com`, 400, "invalid_json"},
		{"AddUnknownField", "POST", path, `{"domain": "x.example.com", "tenant_id": "beta"}`, 400, "invalid_json"},
		{"AddBadUTF8", "POST", path, "{\"domain\": \"x.example.com\xff\"}", 400, "invalid_json"},
		{"AddEmpty", "POST", path, ``, 400, "invalid_domain"},
		{"AddUpperCase", "POST", path, `{"domain": "X.example.com"}`, 400, "invalid_domain"},
		{"AddURL", "POST", path, `{"domain": "https://x.example.com/"}`, 400, "invalid_domain"},
		{"AddHuge", "POST", path, `{"domain": "` + strings.Repeat("a", 20000) + `.com"}`, 400, "invalid_domain"},
		{"AddSubdomainHost", "POST", path, `{"domain": "beta.localhost"}`, 400, "invalid_domain"},
		{"AddTaken", "POST", path, `{"domain": "beta.example.com"}`, 409, "domain_taken"},
		{"AddOwnAgain", "POST", path, `{"domain": "acme.example.com", "primary": true}`, 409, "domain_taken"},
		{"AddUnknownTenant", "POST", "/platform/tenants/nobody/domains", `{"domain": "n.example.com"}`, 404, "tenant_not_found"},
		{"AddBadID", "POST", "/platform/tenants/a..b/domains", `{"domain": "n.example.com"}`, 400, "invalid_tenant_id"},
		{"RemoveOtherTenants", "DELETE", path + "/beta.example.com", "", 404, "domain_not_found"},
		{"RemoveUnknown", "DELETE", path + "/none.example.com", "", 404, "domain_not_found"},
		{"RemoveInvalid", "DELETE", path + "/NOT_A_DOMAIN", "", 400, "invalid_domain"},
		{"RemoveUnknownTenant", "DELETE", "/platform/tenants/nobody/domains/beta.example.com", "", 404, "tenant_not_found"},
	})
	resolves(t, "beta.example.com", "beta")
}

// checkPlatformTenant compares the fields the API sets; times and schema are the
// catalog's own.
func checkPlatformTenant(t *testing.T, got, want catalog.Tenant) {
	t.Helper()
	if want.Branding == nil {
		want.Branding = json.RawMessage(`{}`)
	}
	type view struct {
		ID, Name, Subdomain, Plan, Status, Region, Branding string
		StorageQuota, UserLimit                             int64
		Domains                                             []string
	}
	v := func(ten catalog.Tenant) view {
		out := view{ten.ID, ten.Name, ten.ID, ten.Plan, ten.Status, ten.Region, string(ten.Branding), ten.StorageQuota, ten.UserLimit, nil}
		for _, d := range ten.Domains {
			out.Domains = append(out.Domains, d.Domain+map[bool]string{true: "*"}[d.Primary])
		}
		return out
	}
	g, w := v(got), v(want)
	g.Subdomain = got.Subdomain
	if b1, b2 := must(json.Marshal(g)), must(json.Marshal(w)); string(b1) != string(b2) {
		t.Errorf("tenant:\n got %s\nwant %s", b1, b2)
	}
	if got.CreatedAt.IsZero() || got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("times: created %v, updated %v", got.CreatedAt, got.UpdatedAt)
	}
}

func tenantFileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

package api_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/plans"
)

// testPlans are the plans of these tests: free with a tight rate and
// libSQL off, pro with libSQL, tiny with tiny count limits.
const testPlans = `plans:
  free:
    requests_per_second: 1
    burst: 3
    libsql: false
  pro:
    libsql: true
    api_tokens: unlimited
  tiny:
    items_per_collection: 2
    api_tokens: 1
`

// clock is a test's settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func mustPlans(t testing.TB, file string) *plans.Set {
	t.Helper()
	ps, err := plans.Parse([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// storageUsage measures a tenant's storage as the quota counts it.
func storageUsage(t testing.TB, e *apitest.Env, tenant string) plans.Usage {
	t.Helper()
	h, release, err := e.Store.Acquire(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	u, err := plans.ReadUsage(context.Background(), h.Reader())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func setQuota(t testing.TB, e *apitest.Env, tenant string, quota int64) {
	t.Helper()
	if _, err := e.Catalog.UpdateTenant(context.Background(), tenant, catalog.TenantUpdate{StorageQuota: &quota}); err != nil {
		t.Fatal(err)
	}
}

func setPlan(t testing.TB, e *apitest.Env, tenant, plan string) {
	t.Helper()
	if _, err := e.Catalog.UpdateTenant(context.Background(), tenant, catalog.TenantUpdate{Plan: &plan}); err != nil {
		t.Fatal(err)
	}
}

// TestPlans_RateLimit spends a tenant's burst on an injected clock: the
// request past it is 429 rate_limited with Retry-After, another tenant is
// unaffected, and a second later one request passes again.
func TestPlans_RateLimit(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}
	e := apitest.NewWithPlans(t, api.Config{Now: clk.Now}, hrana.Config{}, mustPlans(t, testPlans))
	get := func(tenant string) apitest.Response { return e.Call(t, tenant, "GET", "/api/tenant", "", "") }
	for range 3 {
		apitest.WantStatus(t, get("tenant-a"), 200, "")
	}
	res := get("tenant-a")
	apitest.WantStatus(t, res, 429, "rate_limited")
	if got := res.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
	apitest.WantStatus(t, get("tenant-b"), 200, "") // its own bucket
	clk.Add(999 * time.Millisecond)
	apitest.WantStatus(t, get("tenant-a"), 429, "rate_limited")
	clk.Add(time.Millisecond)
	apitest.WantStatus(t, get("tenant-a"), 200, "")
	apitest.WantStatus(t, get("tenant-a"), 429, "rate_limited")
	// The libSQL endpoint spends the same bucket.
	if res, _ := e.Fetch(t, "tenant-a", "GET", "/v2"); res.StatusCode != 429 {
		t.Errorf("libSQL endpoint past the rate: %d", res.StatusCode)
	}
	// A plan change takes effect on the next request: pro's rate (the
	// free plan's, 100 a second with a burst of 300, inherited) passes.
	setPlan(t, e, "tenant-a", "pro")
	apitest.WantStatus(t, get("tenant-a"), 200, "")
}

// TestPlans_QuotaCMS: a CMS write passes while usage + its body fits the
// quota, is refused 413 quota_exceeded one byte short, changing nothing,
// and every write is refused once usage is at the quota; reads and
// deletes keep working.
func TestPlans_QuotaCMS(t *testing.T) {
	e := newIdentity(t, api.Config{})
	admin := e.AdminToken(t, "tenant-a")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections", admin, `{"name": "posts", "public": true}`), 201, "")
	body := `{"title": "Hello", "status": "published"}`
	post := func() apitest.Response {
		return e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", admin, body)
	}
	items := func() int {
		return len(e.Call(t, "tenant-a", "GET", "/api/collections/posts/content", admin, "").Raw["data"].([]any))
	}

	u := storageUsage(t, e.Env, "tenant-a")
	setQuota(t, e.Env, "tenant-a", u.Total()+int64(len(body))-1) // one byte short
	res := post()
	apitest.WantStatus(t, res, 413, "quota_exceeded")
	if want := fmt.Sprint(u.Total()+int64(len(body))-1, " bytes"); !strings.Contains(res.Error.Message, want) || !strings.Contains(res.Error.Message, fmt.Sprint(u.Total(), " bytes")) {
		t.Errorf("message %q does not name the quota and the usage", res.Error.Message)
	}
	if n, after := items(), storageUsage(t, e.Env, "tenant-a"); n != 0 || after != u {
		t.Fatalf("a refused write changed something: %d items, usage %+v (was %+v)", n, after, u)
	}

	setQuota(t, e.Env, "tenant-a", u.Total()+int64(len(body))) // exactly enough
	created := post()
	apitest.WantStatus(t, created, 201, "")

	setQuota(t, e.Env, "tenant-a", storageUsage(t, e.Env, "tenant-a").Total()) // at the limit
	apitest.WantStatus(t, post(), 413, "quota_exceeded")
	id := created.Data["id"].(string)
	apitest.WantStatus(t, e.Call(t, "tenant-a", "PATCH", "/api/content/"+id, admin, `{"title": "Changed"}`), 413, "quota_exceeded")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/content/"+id, "", ""), 200, "")
	if n := items(); n != 1 {
		t.Fatalf("%d items, want 1", n)
	}
	apitest.WantStatus(t, e.Call(t, "tenant-a", "DELETE", "/api/content/"+id, admin, ""), 204, "")
	// Tenant B is not A's quota.
	bAdmin := e.AdminToken(t, "tenant-b")
	apitest.WantStatus(t, e.Call(t, "tenant-b", "POST", "/api/collections", bAdmin, `{"name": "posts"}`), 201, "")
}

// TestPlans_QuotaMedia: the quota counts the database and the media.
func TestPlans_QuotaMedia(t *testing.T) {
	e := newIdentity(t, api.Config{})
	admin := e.AdminToken(t, "tenant-a")
	file := []byte(strings.Repeat("m", 1000))
	u := storageUsage(t, e.Env, "tenant-a")

	setQuota(t, e.Env, "tenant-a", u.Total()+int64(len(file))-1) // one byte short
	apitest.WantStatus(t, e.uploadMedia(t, "tenant-a", admin, filePart("a.txt", file)), 413, "quota_exceeded")
	if got := e.mediaFiles(t, "tenant-a"); len(got) != 0 {
		t.Fatalf("a refused upload left files: %v", got)
	}
	if after := storageUsage(t, e.Env, "tenant-a"); after != u {
		t.Fatalf("usage %+v after a refused upload, was %+v", after, u)
	}
	setQuota(t, e.Env, "tenant-a", u.Total()+int64(len(file))) // exactly enough
	apitest.WantStatus(t, e.uploadMedia(t, "tenant-a", admin, filePart("a.txt", file)), 201, "")

	setQuota(t, e.Env, "tenant-a", storageUsage(t, e.Env, "tenant-a").Total()) // at the limit
	apitest.WantStatus(t, e.uploadMedia(t, "tenant-a", admin, filePart("b.txt", []byte("b"))), 413, "quota_exceeded")
	if got := e.mediaFiles(t, "tenant-a"); len(got) != 1 {
		t.Fatalf("files: %v", got)
	}
}

// TestPlans_QuotaLibSQL: writes through the libSQL endpoint may grow the
// database up to the quota's last page and no further (max_page_count);
// past it the statement fails with QUOTA_EXCEEDED and nothing is saved.
func TestPlans_QuotaLibSQL(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{})
	tok := e.write["tenant-a"]
	run := func(sql ...string) answer {
		reqs := []map[string]any{}
		for _, s := range sql {
			reqs = append(reqs, execute(s))
		}
		return e.post(t, "tenant-a", "/v2/pipeline", tok, pipe(nil, append(reqs, closeReq)...))
	}
	result := func(a answer, i int) map[string]any {
		t.Helper()
		rs, _ := a.body["results"].([]any)
		if a.status != 200 || len(rs) <= i {
			t.Fatalf("pipeline: %d %s", a.status, a.text)
		}
		return rs[i].(map[string]any)
	}
	if r := result(run("CREATE TABLE blobs (b BLOB)"), 0); r["type"] != "ok" {
		t.Fatalf("create: %v", r)
	}
	const insert = "INSERT INTO blobs VALUES (zeroblob(400000))"
	// How many pages the insert needs: run it in a transaction rolled back.
	u := storageUsage(t, e.Env, "tenant-a")
	a := run("BEGIN", insert, "SELECT page_count FROM pragma_page_count()", "ROLLBACK")
	during := firstInt(t, result(a, 2))
	pageSize := firstInt(t, result(run("SELECT page_size FROM pragma_page_size()"), 0))
	need := (during - u.Database/pageSize) * pageSize
	if need <= 0 {
		t.Fatalf("the insert needs %d bytes", need)
	}
	count := func() int { return e.count(t, "tenant-a", "SELECT count(*) FROM blobs") }

	setQuota(t, e.Env, "tenant-a", u.Total()+need-1) // one byte short
	r := result(run(insert), 0)
	if errObj, _ := r["error"].(map[string]any); r["type"] != "error" || errObj["code"] != hrana.CodeQuotaExceeded {
		t.Fatalf("one byte short: %v, want %s", r, hrana.CodeQuotaExceeded)
	}
	if n, after := count(), storageUsage(t, e.Env, "tenant-a"); n != 0 || after != u {
		t.Fatalf("a refused write changed something: %d rows, usage %+v (was %+v)", n, after, u)
	}
	setQuota(t, e.Env, "tenant-a", u.Total()+need) // exactly enough
	if r := result(run(insert), 0); r["type"] != "ok" {
		t.Fatalf("exactly enough: %v", r)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
	// Reads keep working at the limit.
	if r := result(run("SELECT count(*) FROM blobs"), 0); r["type"] != "ok" {
		t.Fatalf("read at the limit: %v", r)
	}
}

// TestPlans_Change: a plan change through PATCH /platform/tenants/:id
// takes effect on the next request, an unknown plan is refused, and a
// downgrade below usage is allowed, reported, and blocks growth only.
func TestPlans_Change(t *testing.T) {
	e := apitest.NewWithPlans(t, api.Config{IPLoginBurst: 1000}, hrana.Config{}, mustPlans(t, testPlans).Unmetered())
	platform := apitest.Do(t, e.Srv, "POST", "localhost", "/platform/auth/login",
		strings.NewReader(`{"email": "`+apitest.AdminEmail+`", "password": "`+apitest.AdminPassword+`"}`)).Raw["token"].(string)
	patch := func(body string) apitest.Response {
		return e.Call(t, "localhost", "PATCH", "/platform/tenants/tenant-a", platform, body)
	}
	// free has no libSQL endpoint; pro has.
	if res, body := e.Fetch(t, "tenant-a", "GET", "/v2"); res.StatusCode != 403 || !strings.Contains(string(body), "PLAN_FEATURE_UNAVAILABLE") {
		t.Errorf("libSQL endpoint on free: %d %s", res.StatusCode, body)
	}
	apitest.WantStatus(t, patch(`{"plan": "gold"}`), 400, "invalid_plan")
	res := patch(`{"plan": "pro"}`)
	apitest.WantStatus(t, res, 200, "")
	if res.Raw["usage"] == nil || res.Raw["warning"] != nil {
		t.Errorf("upgrade answer: %v", res.Raw)
	}
	if res, body := e.Fetch(t, "tenant-a", "GET", "/v2"); res.StatusCode != 200 {
		t.Errorf("libSQL endpoint on pro: %d %s", res.StatusCode, body)
	}

	// GET /platform/plans lists them.
	list := e.Call(t, "localhost", "GET", "/platform/plans", platform, "")
	apitest.WantStatus(t, list, 200, "")
	if got := len(list.Raw["data"].([]any)); got != 3 {
		t.Errorf("%d plans listed, want 3", got)
	}

	// A downgrade of the quota below usage: allowed, reported.
	res = patch(`{"storage_quota": 1000}`)
	apitest.WantStatus(t, res, 200, "")
	if w, _ := res.Raw["warning"].(string); !strings.Contains(w, "more than its storage quota") {
		t.Errorf("no warning for a quota below usage: %v", res.Raw)
	}
	admin := e.AdminToken(t, "tenant-a")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections", admin, `{"name": "posts"}`), 413, "quota_exceeded")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/collections", admin, ""), 200, "")
}

// TestPlans_CountLimits: items per collection and API tokens.
func TestPlans_CountLimits(t *testing.T) {
	e := apitest.NewWithPlans(t, api.Config{}, hrana.Config{}, mustPlans(t, testPlans).Unmetered())
	setPlan(t, e, "tenant-a", "tiny")
	admin := e.AdminToken(t, "tenant-a")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections", admin, `{"name": "posts"}`), 201, "")
	for range 2 {
		apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", admin, `{"title": "x"}`), 201, "")
	}
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", admin, `{"title": "x"}`), 403, "plan_limit_reached")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/tokens", admin, `{"name": "one"}`), 201, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/tokens", admin, `{"name": "two"}`), 403, "plan_limit_reached")
	// Tenant B, on free, is not held to tiny's limits.
	bAdmin := e.AdminToken(t, "tenant-b")
	for _, name := range []string{"one", "two"} {
		apitest.WantStatus(t, e.Call(t, "tenant-b", "POST", "/api/tokens", bAdmin, `{"name": "`+name+`"}`), 201, "")
	}
}

// firstInt is the first value of a statement result's first row.
func firstInt(t *testing.T, r map[string]any) int64 {
	t.Helper()
	res, _ := r["response"].(map[string]any)["result"].(map[string]any)
	rows, _ := res["rows"].([]any)
	if len(rows) == 0 {
		t.Fatalf("no rows: %v", r)
	}
	var n int64
	v := rows[0].([]any)[0].(map[string]any)["value"]
	fmt.Sscan(fmt.Sprint(v), &n)
	return n
}

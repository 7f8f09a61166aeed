package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/usage"
)

// statsEnv is a server metering usage, with a platform admin's token.
type statsEnv struct {
	*apitest.Env
	meter    *usage.Meter
	flusher  *usage.Flusher
	platform string
}

func newStatsEnv(t *testing.T) *statsEnv {
	t.Helper()
	m := usage.New(nil)
	e := apitest.New(t, api.Config{Usage: m})
	r := e.Call(t, "localhost", "POST", "/platform/auth/login", "", `{"email": "`+apitest.AdminEmail+`", "password": "`+apitest.AdminPassword+`"}`)
	tok, _ := r.Raw["token"].(string)
	if tok == "" {
		t.Fatalf("platform login: %d %v", r.Status, r.Raw)
	}
	return &statsEnv{Env: e, meter: m, flusher: &usage.Flusher{Meter: m, Catalog: e.Catalog, Store: e.Store}, platform: tok}
}

func (e *statsEnv) stats(t *testing.T, path string) (apitest.Response, api.TenantStats) {
	t.Helper()
	r := e.Call(t, "localhost", "GET", path, e.platform, "")
	var out struct{ Data api.TenantStats }
	if r.Status == http.StatusOK {
		b, _ := json.Marshal(r.Raw)
		json.Unmarshal(b, &out)
	}
	return r, out.Data
}

func TestStats_Tenant(t *testing.T) {
	e := newStatsEnv(t)
	ctx := context.Background()
	for range 5 {
		e.Call(t, "tenant-a", "GET", "/api/tenant", "", "")
	}
	e.Call(t, "tenant-a", "GET", "/api/content/nope", "", "") // a 404
	e.Call(t, "tenant-a", "POST", "/api/collections", "", `{"name": "x"}`)
	if err := e.flusher.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Two more, not flushed yet: the API adds them to today's row.
	e.Call(t, "tenant-a", "GET", "/api/tenant", "", "")
	e.Call(t, "tenant-a", "GET", "/api/tenant", "", "")

	today := time.Now().UTC().Format(catalog.DayFormat)
	r, st := e.stats(t, "/platform/tenants/tenant-a/stats")
	if r.Status != http.StatusOK || len(st.Days) != 1 {
		t.Fatalf("stats: %d %v", r.Status, r.Raw)
	}
	d := st.Days[0]
	if d.Day != today || d.Requests != 9 || d.Errors4xx != 2 || d.Errors5xx != 0 || d.BytesOut <= 0 || d.BytesIn <= 0 {
		t.Errorf("today: %+v", d)
	}
	if d.P50Ms <= 0 || d.P99Ms < d.P50Ms || d.LastActive == nil {
		t.Errorf("latency or last active: %+v", d)
	}
	if d.BytesStored == nil || *d.BytesStored <= 0 || d.Users == nil || *d.Users != 1 || d.Items == nil || *d.Items != 0 {
		t.Errorf("gathered gauges: %+v", d)
	}
	if st.Totals.Requests != 9 || st.To != today || st.TenantID != "tenant-a" {
		t.Errorf("totals: %+v", st)
	}
	// B served nothing: no days, and A's requests are not B's.
	if r, st := e.stats(t, "/platform/tenants/tenant-b/stats"); r.Status != http.StatusOK || len(st.Days) != 0 || st.Totals.Requests != 0 {
		t.Errorf("tenant-b: %d %+v", r.Status, st)
	}
	// A range without today leaves the unflushed requests out.
	if r, st := e.stats(t, "/platform/tenants/tenant-a/stats?from=2026-01-01&to=2026-01-31"); r.Status != http.StatusOK || len(st.Days) != 0 {
		t.Errorf("January: %d %+v", r.Status, st)
	}
	// Flushing again adds (the upsert adds, it does not replace).
	if err := e.flusher.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := e.Catalog.Usage(ctx, "tenant-a", today, today)
	if err != nil || len(rows) != 1 || rows[0].Requests != 9 {
		t.Fatalf("catalog rows: %v %+v", err, rows)
	}
}

func TestStats_BadInput(t *testing.T) {
	e := newStatsEnv(t)
	before, _ := e.Catalog.Usage(context.Background(), "tenant-a", "0000-01-01", "9999-12-31")
	for _, c := range []struct {
		path   string
		status int
		code   string
	}{
		{"/platform/tenants/tenant-a/stats?from=2026-13-01", 400, "invalid_date"},
		{"/platform/tenants/tenant-a/stats?to=yesterday", 400, "invalid_date"},
		{"/platform/tenants/tenant-a/stats?from=2026-02-30", 400, "invalid_date"},
		{"/platform/tenants/tenant-a/stats?from=2026-03-02&to=2026-03-01", 400, "invalid_range"},
		{"/platform/tenants/tenant-a/stats?from=2020-01-01&to=2026-01-01", 400, "invalid_range"},
		{"/platform/tenants/Not_An_Id/stats", 400, ""},
		{"/platform/tenants/nobody/stats", 404, ""},
	} {
		r, _ := e.stats(t, c.path)
		if r.Status != c.status || c.code != "" && r.Error.Code != c.code || r.Error.Message == "" {
			t.Errorf("%s: %d %v, want %d %s", c.path, r.Status, r.Raw, c.status, c.code)
		}
	}
	for _, path := range []string{"/platform/tenants/tenant-a/stats", "/platform/stats"} {
		if r := e.Call(t, "localhost", "GET", path, "", ""); r.Status != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d", path, r.Status)
		}
		if r := e.Call(t, "localhost", "GET", path, e.AdminToken(t, "tenant-a"), ""); r.Status != http.StatusUnauthorized {
			t.Errorf("%s with a tenant admin's token: %d", path, r.Status)
		}
	}
	after, _ := e.Catalog.Usage(context.Background(), "tenant-a", "0000-01-01", "9999-12-31")
	if len(before) != len(after) {
		t.Errorf("bad requests changed usage rows: %v -> %v", before, after)
	}
}

func TestStats_Platform(t *testing.T) {
	e := newStatsEnv(t)
	e.Call(t, "tenant-a", "GET", "/api/tenant", "", "")
	e.Call(t, "tenant-b", "GET", "/api/tenant", "", "")
	r := e.Call(t, "localhost", "GET", "/platform/stats", e.platform, "")
	if r.Status != http.StatusOK {
		t.Fatalf("%d %v", r.Status, r.Raw)
	}
	var st api.PlatformStats
	b, _ := json.Marshal(r.Data)
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if st.Tenants["active"] != 2 || st.Unflushed != 2 || st.ActiveToday != 0 || st.Pool.Size != 8 || st.Pool.Open < 1 || st.Jobs.Recent == nil {
		t.Errorf("before a flush: %s", b)
	}
	if err := e.flusher.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	r = e.Call(t, "localhost", "GET", "/platform/stats", e.platform, "")
	b, _ = json.Marshal(r.Data)
	st = api.PlatformStats{}
	json.Unmarshal(b, &st)
	if st.ActiveToday != 2 || st.Unflushed != 0 || st.Pool.Hits+st.Pool.Misses == 0 || st.Resolve.Hits+st.Resolve.Misses == 0 {
		t.Errorf("after a flush: %s", b)
	}
}

func TestStats_FleetUsage(t *testing.T) {
	e := newStatsEnv(t)
	for _, id := range []string{"tenant-a", "tenant-a", "tenant-b"} {
		e.Call(t, id, "GET", "/api/tenant", "", "")
	}
	e.Call(t, "tenant-b", "GET", "/api/content/nope", "", "") // a 404
	if err := e.flusher.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Format(catalog.DayFormat)
	r := e.Call(t, "localhost", "GET", "/platform/stats/usage", e.platform, "")
	var fu api.FleetUsage
	b, _ := json.Marshal(r.Data)
	if err := json.Unmarshal(b, &fu); r.Status != http.StatusOK || err != nil {
		t.Fatalf("%d %v", r.Status, r.Raw)
	}
	if fu.To != today || len(fu.Days) != 1 {
		t.Fatalf("fleet usage: %s", b)
	}
	if d := fu.Days[0]; d.Day != today || d.Tenants != 2 || d.Requests != 4 || d.Errors4xx != 1 || d.BytesStored == nil || *d.BytesStored <= 0 {
		t.Errorf("today: %+v", d)
	}
	r = e.Call(t, "localhost", "GET", "/platform/stats/usage?from=2020-01-01&to=2020-01-31", e.platform, "")
	if days, _ := r.Data["days"].([]any); r.Status != http.StatusOK || days == nil || len(days) != 0 {
		t.Errorf("an empty range: %d %v, want 200 with no days", r.Status, r.Raw)
	}
	apitest.WantStatus(t, e.Call(t, "localhost", "GET", "/platform/stats/usage?from=yesterday", e.platform, ""), 400, "invalid_date")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/platform/stats/usage", e.AdminToken(t, "tenant-a"), ""), 401, "")
}

func TestStats_TenantListUsage(t *testing.T) {
	e := newStatsEnv(t)
	e.Call(t, "tenant-a", "GET", "/api/tenant", "", "")
	if err := e.flusher.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.Call(t, "tenant-b", "GET", "/api/tenant", "", "") // not flushed: this node's pending count
	r := e.Call(t, "localhost", "GET", "/platform/tenants?include=usage", e.platform, "")
	var list []struct {
		ID    string              `json:"id"`
		Usage catalog.UsageLatest `json:"usage"`
	}
	b, _ := json.Marshal(r.Raw["data"])
	if err := json.Unmarshal(b, &list); r.Status != http.StatusOK || err != nil || len(list) != 2 {
		t.Fatalf("%d %v", r.Status, r.Raw)
	}
	if u := list[0].Usage; list[0].ID != "tenant-a" || u.LastActive == nil || u.BytesStored == nil || *u.BytesStored <= 0 {
		t.Errorf("tenant-a: %s", b)
	}
	if u := list[1].Usage; list[1].ID != "tenant-b" || u.LastActive == nil || u.BytesStored != nil {
		t.Errorf("tenant-b, active but not flushed: %s", b)
	}
	if r := e.Call(t, "localhost", "GET", "/platform/tenants", e.platform, ""); strings.Contains(fmt.Sprint(r.Raw["data"]), "usage:") {
		t.Errorf("usage without include=usage: %v", r.Raw)
	}
	apitest.WantStatus(t, e.Call(t, "localhost", "GET", "/platform/tenants?include=stats", e.platform, ""), 400, "invalid_include")
}

// libSQL statements count in the tenant's usage: an execute is one, a
// batch its steps, a cursor its batch's steps; a close none.
func TestStats_SQLStatements(t *testing.T) {
	m := usage.New(nil)
	e := newSQL(t, api.Config{Usage: m}, hrana.Config{})
	pipe := `{"requests": [{"type": "execute", "stmt": {"sql": "SELECT 1"}},
		{"type": "batch", "batch": {"steps": [{"stmt": {"sql": "SELECT 2"}}, {"stmt": {"sql": "SELECT 3"}}]}}, {"type": "close"}]}`
	if r := e.post(t, "tenant-a", "/v2/pipeline", e.read["tenant-a"], pipe); r.status != http.StatusOK {
		t.Fatalf("pipeline: %d %v", r.status, r.body)
	}
	cursor := `{"batch": {"steps": [{"stmt": {"sql": "SELECT 4"}}, {"stmt": {"sql": "SELECT 5"}}]}}`
	if r := e.post(t, "tenant-a", "/v3/cursor", e.read["tenant-a"], cursor); r.status != http.StatusOK {
		t.Fatalf("cursor: %d %s", r.status, r.text)
	}
	if d, _ := m.Pending("tenant-a"); d.Statements != 5 {
		t.Errorf("tenant-a statements: %d, want 5", d.Statements)
	}
	if d, _ := m.Pending("tenant-b"); d.Statements != 0 {
		t.Errorf("tenant-b statements: %d, want 0", d.Statements)
	}
}

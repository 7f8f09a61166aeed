package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/usage"
)

// scrape GETs /metrics on host with header (name, value pairs) and
// parses it with Prometheus's own text parser.
func scrape(t *testing.T, base, host string, header ...string) (int, map[string]*dto.MetricFamily) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+api.MetricsPath, nil)
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		io.Copy(io.Discard, res.Body)
		return res.StatusCode, nil
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return res.StatusCode, fams
}

func TestMetrics_Scrape(t *testing.T) {
	e := apitest.New(t, api.Config{Usage: usage.New(nil)})
	aAdmin := e.AdminToken(t, "tenant-a")
	for range 3 {
		if r := e.Call(t, "tenant-a", "GET", "/api/tenant", "", ""); r.Status != http.StatusOK {
			t.Fatalf("GET /api/tenant: %d", r.Status)
		}
	}
	e.Call(t, "tenant-a", "GET", "/api/content/"+strings.Repeat("x", 20), aAdmin, "") // a 404 with an id in its path
	e.Call(t, "tenant-a", "GET", "/no/such/route/tenant-a", "", "")
	// A's token on B's host: a cross-tenant attempt.
	if r := e.Call(t, "tenant-b", "GET", "/api/users", aAdmin, ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("A's token on B: %d", r.Status)
	}

	status, fams := scrape(t, e.Srv.URL, "platform.localhost")
	if status != http.StatusOK {
		t.Fatalf("/metrics on the platform host: %d", status)
	}
	for _, name := range []string{
		"condo_http_requests_total", "condo_http_request_duration_seconds",
		"condo_pool_size", "condo_pool_open", "condo_pool_hits_total", "condo_pool_misses_total", "condo_pool_evictions_total",
		"condo_pool_opens_total", "condo_pool_open_seconds_total",
		"condo_resolve_cache_hits_total", "condo_resolve_cache_misses_total",
		"condo_tenants", "condo_tenant_migrations_failed", "condo_migration_runs_running", "condo_migration_runs_failed",
		"condo_moves_running", "condo_moves_failed", "condo_mail_outbox",
		"condo_security_events_total", "condo_cross_tenant_attempts_total", "condo_libsql_streams_open", "condo_usage_active_tenants",
		"go_goroutines", "process_resident_memory_bytes",
	} {
		if fams[name] == nil {
			t.Errorf("no family %s", name)
		}
	}
	// Every family the sample dashboard charts is served.
	dash, err := os.ReadFile("../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range regexp.MustCompile(`condo_[a-z_]+`).FindAllString(string(dash), -1) {
		if name = strings.TrimSuffix(name, "_bucket"); fams[name] == nil {
			t.Errorf("the dashboard charts %s, which /metrics lacks", name)
		}
	}
	// No label names a tenant or carries a raw path.
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v := l.GetValue(); strings.Contains(v, "tenant-a") || strings.Contains(v, "tenant-b") || strings.Contains(v, "xxxx") || strings.Contains(v, "/no/such") {
					t.Errorf("%s has label %s=%q", name, l.GetName(), v)
				}
			}
		}
	}
	// The route is echo's pattern, with the status class.
	if n := counterOf(fams["condo_http_requests_total"], "route", "/api/tenant", "class", "2xx", "method", "GET"); n < 3 {
		t.Errorf("GET /api/tenant 2xx: %v, want at least 3", n)
	}
	if n := counterOf(fams["condo_http_requests_total"], "route", "/api/content/:id", "class", "4xx"); n < 1 {
		t.Errorf("the 404 of an item: %v, want its route pattern", n)
	}
	if n := fams["condo_cross_tenant_attempts_total"].GetMetric()[0].GetCounter().GetValue(); n < 1 {
		t.Errorf("cross-tenant attempts: %v", n)
	}
	if n := gaugeOf(fams["condo_tenants"], "status", "active"); n != 2 {
		t.Errorf("active tenants: %v, want 2", n)
	}
	if n := fams["condo_pool_size"].GetMetric()[0].GetGauge().GetValue(); n != 8 {
		t.Errorf("pool size: %v", n)
	}
	if n := fams["condo_resolve_cache_hits_total"].GetMetric()[0].GetCounter().GetValue(); n < 1 {
		t.Errorf("resolution cache hits: %v", n)
	}
}

// counterOf sums the counters (or histogram counts) of f whose labels
// include every name, value pair of want.
func counterOf(f *dto.MetricFamily, want ...string) float64 {
	var sum float64
	for _, m := range f.GetMetric() {
		if hasLabels(m, want...) {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

func gaugeOf(f *dto.MetricFamily, want ...string) float64 {
	for _, m := range f.GetMetric() {
		if hasLabels(m, want...) {
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

func hasLabels(m *dto.Metric, want ...string) bool {
	for i := 0; i+1 < len(want); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == want[i] && l.GetValue() == want[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// /metrics describes the whole fleet: never on a tenant's host, nor on a
// host that falls back to a tenant, whatever the credential.
func TestMetrics_NotOnTenantHosts(t *testing.T) {
	e := apitest.New(t, api.Config{})
	aAdmin := e.AdminToken(t, "tenant-a")
	for _, c := range []struct{ host, token string }{
		{"tenant-a.localhost", ""}, {"tenant-a.localhost", aAdmin}, {"tenant-b.localhost", aAdmin},
		{"localhost", ""}, {"127.0.0.1", ""}, {"platform.localhost.evil.com", ""},
	} {
		for _, method := range []string{"GET", "HEAD"} {
			header := []string{"X-Tenant-ID", "tenant-a"}
			if c.token != "" {
				header = append(header, "Authorization", "Bearer "+c.token)
			}
			if method == "HEAD" {
				req, _ := http.NewRequest("HEAD", e.Srv.URL+api.MetricsPath, nil)
				req.Host = c.host
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusNotFound {
					t.Errorf("HEAD /metrics on %s: %d, want 404", c.host, res.StatusCode)
				}
				continue
			}
			r := apitest.Do(t, e.Srv, method, c.host, api.MetricsPath, nil, header...)
			apitest.WantStatus(t, r, http.StatusNotFound, "not_found")
		}
	}
	if status, _ := scrape(t, e.Srv.URL, "platform.localhost"); status != http.StatusOK {
		t.Errorf("the platform host: %d", status)
	}
	if status, _ := scrape(t, e.Srv.URL, "PLATFORM.localhost:8080"); status != http.StatusOK {
		t.Errorf("the platform host with a port: %d", status)
	}
}

func TestMetrics_Token(t *testing.T) {
	e := apitest.New(t, api.Config{MetricsToken: "a metrics token of this test"})
	for _, h := range [][]string{nil, {"Authorization", "Bearer wrong"}, {"Authorization", "a metrics token of this test"}} {
		if status, _ := scrape(t, e.Srv.URL, "platform.localhost", h...); status != http.StatusUnauthorized {
			t.Errorf("%v: %d, want 401", h, status)
		}
	}
	r := apitest.Do(t, e.Srv, "GET", "platform.localhost", api.MetricsPath, nil)
	apitest.WantStatus(t, r, http.StatusUnauthorized, "invalid_token")
	if status, fams := scrape(t, e.Srv.URL, "platform.localhost", "Authorization", "Bearer a metrics token of this test"); status != http.StatusOK || fams["condo_pool_size"] == nil {
		t.Errorf("with the token: %d", status)
	}
	// The separate listener's handler asks for it too.
	ms := httptest.NewServer(e.API.MetricsHandler())
	defer ms.Close()
	srv := ms.URL
	if status, _ := scrape(t, srv, "anything"); status != http.StatusUnauthorized {
		t.Errorf("MetricsHandler without the token: %d", status)
	}
	if status, _ := scrape(t, srv, "anything", "Authorization", "Bearer a metrics token of this test"); status != http.StatusOK {
		t.Errorf("MetricsHandler with the token: %d", status)
	}
}

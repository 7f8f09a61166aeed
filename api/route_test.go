package api_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/route"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// routeEnv serves tenant "west" (home iad) at a node of region ams whose
// only iad node is at iadURL.
func routeEnv(t *testing.T, iadURL string) *httptest.Server {
	t.Helper()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 4})
	ctx := context.Background()
	if _, err := env.Store.Create(ctx, catalog.NewTenant{ID: "west", Name: "West", Region: "iad"}); err != nil {
		t.Fatal(err)
	}
	if err := env.Catalog.RegisterNode(ctx, catalog.NodeInfo{ID: "iad-1", Region: "iad", AdvertiseURL: iadURL, Heartbeat: time.Minute}); err != nil {
		t.Fatal(err)
	}
	srv, _ := apitest.Serve(t, env.Catalog, env.Store, api.Config{Secret: apitest.Secret, NodeID: "ams-1",
		Routing: api.Routing{Region: "ams", Nodes: route.NewNodes(env.Catalog, "ams-1", 0), Timeout: 200 * time.Millisecond}})
	return srv
}

// What the proxy sends: the client's host, path and query, its address,
// the request id and a marker; what it answers: the home node's headers,
// once.
func TestForward_RequestAndAnswer(t *testing.T) {
	var mu sync.Mutex
	var got *http.Request
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Clone(context.Background())
		mu.Unlock()
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set(api.NodeHeader, "iad-1")
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte(`{"data":{"from":"iad"}}`))
	}))
	defer home.Close()
	srv := routeEnv(t, home.URL)
	res := apitest.Do(t, srv, "GET", "west.localhost", "/api/tenant?x=1", nil, "X-Request-ID", "req-123", "X-Forwarded-For", "6.6.6.6")
	if res.Status != http.StatusTeapot || res.Data["from"] != "iad" || res.Header.Get(api.NodeHeader) != "iad-1" ||
		len(res.Header.Values("X-Content-Type-Options")) != 1 || len(res.Header.Values(api.NodeHeader)) != 1 {
		t.Fatalf("answer: %d %q %v", res.Status, res.Header, res.Raw)
	}
	mu.Lock()
	defer mu.Unlock()
	if got.Host != "west.localhost" || got.URL.Path != "/api/tenant" || got.URL.RawQuery != "x=1" ||
		got.Header.Get("X-Forwarded-For") != "127.0.0.1" || got.Header.Get("X-Request-ID") != "req-123" ||
		!strings.HasPrefix(got.Header.Get(route.MarkerHeader), "t=") {
		t.Errorf("forwarded: host %s, url %s, header %q", got.Host, got.URL, got.Header)
	}
}

// A home node that answers too slowly gives 504; one that cannot be
// reached gives 503 region_unavailable.
func TestForward_SlowAndUnreachableHome(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	res := apitest.Do(t, routeEnv(t, slow.URL), "GET", "west.localhost", "/api/tenant", nil)
	apitest.WantStatus(t, res, http.StatusGatewayTimeout, "gateway_timeout")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	res = apitest.Do(t, routeEnv(t, closed), "GET", "west.localhost", "/api/tenant", nil)
	apitest.WantStatus(t, res, http.StatusServiceUnavailable, "region_unavailable")
	if res.Header.Get("Retry-After") == "" {
		t.Errorf("no Retry-After: %q", res.Header)
	}
}

// A libSQL request continuing a stream goes to the node its baton names,
// in the tenant's home region or in this node's own; one whose node is
// gone is served by the tenant's usual node.
func TestForward_FollowsTheBaton(t *testing.T) {
	hits := map[string]*atomic.Int32{"iad-1": {}, "iad-2": {}, "ams-2": {}}
	servers := map[string]*httptest.Server{}
	for id := range hits {
		servers[id] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[id].Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"baton":null,"results":[]}`))
		}))
		defer servers[id].Close()
	}
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 4})
	ctx := context.Background()
	for id, region := range map[string]string{"west": "iad", "here": "ams"} {
		if _, err := env.Store.Create(ctx, catalog.NewTenant{ID: id, Region: region}); err != nil {
			t.Fatal(err)
		}
	}
	for id, srv := range servers {
		if err := env.Catalog.RegisterNode(ctx, catalog.NodeInfo{ID: id, Region: id[:3], AdvertiseURL: srv.URL, Heartbeat: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	srv, _ := apitest.Serve(t, env.Catalog, env.Store, api.Config{Secret: apitest.Secret, NodeID: "ams-1",
		Routing: api.Routing{Region: "ams", Nodes: route.NewNodes(env.Catalog, "ams-1", 0), Timeout: time.Second}})
	send := func(host, baton string) {
		body := `{"baton":"` + baton + `","requests":[]}`
		if baton == "" {
			body = `{"baton":null,"requests":[]}`
		}
		res := apitest.Do(t, srv, "POST", host, "/v2/pipeline", strings.NewReader(body), "Content-Type", "application/json")
		if res.Status != 200 {
			t.Fatalf("%s %q: %d %v", host, baton, res.Status, res.Raw)
		}
	}
	count := func() map[string]int32 {
		out := map[string]int32{}
		for id, n := range hits {
			out[id] = n.Swap(0)
		}
		return out
	}
	send("west.localhost", "")
	first := count()
	if first["iad-1"]+first["iad-2"] != 1 || first["ams-2"] != 0 {
		t.Fatalf("a new stream: %v", first)
	}
	for _, node := range []string{"iad-1", "iad-2"} {
		send("west.localhost", node+".AAAA")
		if got := count(); got[node] != 1 {
			t.Errorf("baton of %s went to %v", node, got)
		}
	}
	send("west.localhost", "iad-9.AAAA") // gone: the tenant's usual node
	if got := count(); got["iad-1"]+got["iad-2"] != 1 {
		t.Errorf("baton of a gone node: %v", got)
	}
	send("here.localhost", "ams-2.AAAA") // this region, another node
	if got := count(); got["ams-2"] != 1 {
		t.Errorf("baton of ams-2: %v", got)
	}
}

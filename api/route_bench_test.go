package api_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/route"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// BenchmarkRouting measures, in process, the server's time for a request
// of a tenant homed in another region: the fly-replay answer (target:
// under 50 µs), and a proxied request to a home node on loopback beside
// the same request sent to that home node directly (target: under 1 ms
// more at p50). The home node is a real Condo server of the same data.
func BenchmarkRouting(b *testing.B) {
	env := tenantstoretest.MustOpen(b, catalog.Config{}, tenantstore.Config{PoolSize: 4})
	ctx := context.Background()
	if _, err := env.Store.Create(ctx, catalog.NewTenant{ID: "west", Name: "West", Region: "iad"}); err != nil {
		b.Fatal(err)
	}
	home, _ := apitest.Serve(b, env.Catalog, env.Store, api.Config{Secret: apitest.Secret, NodeID: "iad-1",
		Routing: api.Routing{Region: "iad", Nodes: route.NewNodes(env.Catalog, "iad-1", 0)}})
	if err := env.Catalog.RegisterNode(ctx, catalog.NodeInfo{ID: "iad-1", Region: "iad", AdvertiseURL: home.URL, Heartbeat: time.Hour}); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		fly  bool
		url  func() string
	}{{"FlyReplay", true, nil}, {"Direct", false, func() string { return home.URL }}, {"Forwarded", false, nil}} {
		b.Run(bc.name, func(b *testing.B) {
			url := ""
			if bc.url != nil {
				url = bc.url()
			} else {
				ams, _ := apitest.Serve(b, env.Catalog, env.Store, api.Config{Secret: apitest.Secret, NodeID: "ams-1",
					Routing: api.Routing{Region: "ams", FlyReplay: bc.fly, Nodes: route.NewNodes(env.Catalog, "ams-1", 0)}})
				url = ams.URL
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodGet, url+"/api/tenant", nil)
				req.Host = "west.localhost"
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				want := http.StatusOK
				if bc.fly {
					want = http.StatusConflict
				}
				if res.StatusCode != want {
					b.Fatalf("%s: status %d, want %d", bc.name, res.StatusCode, want)
				}
			}
		})
	}
}

package webhooks_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
	"github.com/condohq/condo/webhooks"
)

// BenchmarkFanout is issue 14's webhook target: 1,000 events per second
// across 100 tenants, each event committed in its tenant's database (an
// outbox write in its own transaction) and delivered by one Worker to a
// local receiver. It reports the delivery latency (commit to receipt)
// p50 and p99. Run it once:
//
//	go test ./webhooks -run '^$' -bench Fanout -benchtime 1x
//
// CONDO_FANOUT_SECONDS (default 5) sets how long events are produced.
func BenchmarkFanout(b *testing.B) {
	const tenants, perSecond = 100, 1000
	seconds := 5
	if v, err := strconv.Atoi(os.Getenv("CONDO_FANOUT_SECONDS")); err == nil && v > 0 {
		seconds = v
	}
	env := tenantstoretest.MustOpen(b, catalog.Config{}, tenantstore.Config{PoolSize: 200})
	var (
		mu        sync.Mutex
		latencies []time.Duration
		seen      = map[string]bool{}
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		var ev struct {
			Timestamp time.Time `json:"timestamp"`
		}
		json.Unmarshal(body, &ev)
		mu.Lock()
		if id := r.Header.Get("webhook-id"); !seen[id] {
			seen[id] = true
			latencies = append(latencies, at.Sub(ev.Timestamp))
		}
		mu.Unlock()
	}))
	defer rcv.Close()
	ctx := context.Background()
	dbs := make([]condo.DB, tenants)
	for i := range tenants {
		id := fmt.Sprintf("t%03d", i)
		env.MustCreate(b, id)
		h, release, err := env.Store.Acquire(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		defer release()
		dbs[i] = h.DB
		eps := webhooks.Endpoints{DB: h.DB, Scope: webhooks.Tenant, AllowPrivate: true}
		if _, _, err := eps.Create(ctx, webhooks.EndpointInput{URL: ptr(rcv.URL), Events: ptr([]string{webhooks.Wildcard})}); err != nil {
			b.Fatal(err)
		}
		if err := env.Catalog.SetWebhookTenant(ctx, id, true); err != nil {
			b.Fatal(err)
		}
	}
	w := webhooks.NewWorker(webhooks.Config{Tenants: opener{env.Store}, Known: env.Catalog.WebhookTenants, AllowPrivate: true, Concurrency: concurrency()})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(wctx) }()
	defer func() { stop(); <-done }()

	b.ResetTimer()
	total := perSecond * seconds
	tick := time.NewTicker(10 * time.Millisecond) // 10 events per tick
	sent := 0
	var wg sync.WaitGroup
	for sent < total {
		<-tick.C
		for range perSecond / 100 {
			i := sent % tenants
			sent++
			wg.Go(func() {
				err := dbs[i].Transact(ctx, func(tx *sql.Tx) error {
					_, err := webhooks.Emit(ctx, dbs[i], tx, webhooks.Tenant, webhooks.ContentUpdated, map[string]any{"n": i})
					return err
				})
				if err != nil {
					b.Error(err)
				}
				webhooks.Wake(fmt.Sprintf("t%03d", i))
			})
		}
	}
	tick.Stop()
	wg.Wait()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(latencies)
		mu.Unlock()
		if n >= total {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d events delivered", n, total)
		}
	}
	b.StopTimer()
	slices.Sort(latencies)
	q := func(p float64) float64 { return latencies[int(float64(len(latencies)-1)*p)].Seconds() * 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
	b.ReportMetric(float64(total), "events")
}

// concurrency is the worker's, CONDO_FANOUT_CONCURRENCY or the default.
func concurrency() int {
	n, _ := strconv.Atoi(os.Getenv("CONDO_FANOUT_CONCURRENCY"))
	return n
}

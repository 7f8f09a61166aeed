package usage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
	"github.com/condohq/condo/usage"
)

func TestQuantile(t *testing.T) {
	b := make([]int64, len(usage.Bounds)+1)
	if got := usage.Quantile(b, .5); got != 0 {
		t.Errorf("none: %v", got)
	}
	b[2] = 100 // 100 requests between 500µs and 1ms
	if got := usage.Quantile(b, .5); got != 750*time.Microsecond {
		t.Errorf("p50 of one bucket: %v, want its middle", got)
	}
	b[len(b)-1] = 2 // 2 past the last bound
	if got := usage.Quantile(b, .99); got != usage.Bounds[len(usage.Bounds)-1] {
		t.Errorf("p99 in the open bucket: %v", got)
	}
}

// Requests recorded while flushes run are each flushed exactly once.
func TestFlusher_ConcurrentRecording(t *testing.T) {
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 4})
	ctx := context.Background()
	m := usage.New(nil)
	f := &usage.Flusher{Meter: m, Catalog: env.Catalog, Store: env.Store}
	const workers, each = 4, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m.Request("t"+string(rune('a'+w%2)), time.Now(), 200+(i%4)*100, time.Duration(i)*time.Microsecond, 10, 20)
				m.Statements("ta", 1)
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			if err := f.Flush(ctx); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	<-done
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC().Format(catalog.DayFormat)
	var requests, e4, e5, in, out, stmts, buckets int64
	for _, id := range []string{"ta", "tb"} {
		rows, err := env.Catalog.Usage(ctx, id, day, day)
		if err != nil || len(rows) != 1 {
			t.Fatalf("%s: %v %v", id, err, rows)
		}
		r := rows[0]
		requests, e4, e5, in, out, stmts = requests+r.Requests, e4+r.Errors4xx, e5+r.Errors5xx, in+r.BytesIn, out+r.BytesOut, stmts+r.Statements
		for _, n := range r.Latency {
			buckets += n
		}
	}
	n := int64(workers * each)
	if requests != n || buckets != n || e4 != n/4 || e5 != n/4 || in != 10*n || out != 20*n || stmts != n {
		t.Errorf("requests %d buckets %d 4xx %d 5xx %d in %d out %d statements %d, want %d each", requests, buckets, e4, e5, in, out, stmts, n)
	}
}

// A flush the catalog refuses puts the counts back for the next one.
func TestFlusher_KeepsWhatFailed(t *testing.T) {
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 4})
	ctx := context.Background()
	m := usage.New(nil)
	f := &usage.Flusher{Meter: m, Catalog: env.Catalog}
	m.Request("ta", time.Now(), 200, time.Millisecond, 1, 2)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := f.Flush(cctx); err == nil {
		t.Fatal("a flush with a cancelled context succeeded")
	}
	if d, ok := m.Pending("ta"); !ok || d.Requests != 1 || d.BytesOut != 2 {
		t.Fatalf("after a failed flush: %+v %v", d, ok)
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC().Format(catalog.DayFormat)
	if rows, err := env.Catalog.Usage(ctx, "ta", day, day); err != nil || len(rows) != 1 || rows[0].Requests != 1 {
		t.Fatalf("%v %+v", err, rows)
	}
}

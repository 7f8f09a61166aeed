package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/scripts/wrk"
	"github.com/condohq/condo/tenantstore"
)

// loadResult is what one load run measured.
type loadResult struct {
	requests int
	elapsed  time.Duration
	rps      float64
	non2xx   int
	errors   int
	p50, p99 time.Duration
	pool     tenantstore.Counters // the pool's counts during the measured load
}

// http serves the real API and a bare echo handler writing the same bytes,
// each on a 127.0.0.1 listener, and loads them in turn with a random
// tenant host per request.
func (b *bench) http(ctx context.Context) error {
	condo, err := serve(api.New(b.cat, b.store, api.Config{}))
	if err != nil {
		return err
	}
	defer condo.stop()
	host0 := b.ids[0] + "." + catalogBaseDomain(b)
	resp, err := get(ctx, condo.url, host0)
	if err != nil {
		return err
	}
	if resp.status != http.StatusOK {
		return fmt.Errorf("GET /api/tenant on %s: status %d: %s", host0, resp.status, resp.body)
	}
	bare, err := serve(bareEcho(resp.body, resp.requestID))
	if err != nil {
		return err
	}
	defer bare.stop()
	condoWire, err := wireBytes(condo.addr, host0)
	if err != nil {
		return err
	}
	bareWire, err := wireBytes(bare.addr, host0)
	if err != nil {
		return err
	}

	hosts := make([]string, len(b.ids))
	for i, id := range b.ids {
		hosts[i] = id + "." + catalogBaseDomain(b)
	}
	// Every load walks a precomputed, seeded sequence of hosts, so the
	// same flags draw the same tenants on every run.
	const seqLen = 1 << 20
	uniform := b.sequence(hosts, 0, seqLen)
	progress("load: bare echo at %s", bare.url)
	bareRes, err := b.load(ctx, "bare", bare.url, "uniform", uniform)
	if err != nil {
		return fmt.Errorf("bare echo: %w", err)
	}
	// A hot set that fits the pool shows the cost of a request that
	// finds its tenant open.
	hot := hosts[:max(1, b.f.pool/2)]
	progress("load: condo at %s, %d hot tenants", condo.url, len(hot))
	hotRes, err := b.load(ctx, "hot", condo.url, "hot", b.sequence(hot, 0, seqLen))
	if err != nil {
		return fmt.Errorf("condo, hot set: %w", err)
	}
	// The raw floor runs just before and just after the uniform churn,
	// and their mean is its floor, so drifting load on a shared machine
	// falls on both.
	progress("raw floor: open + point query + close on %d goroutines", runtime.NumCPU())
	raw1, err := b.rawLoop(ctx, b.f.duration)
	if err != nil {
		return fmt.Errorf("raw floor: %w", err)
	}
	progress("load: condo at %s, all %d tenants, uniform", condo.url, len(hosts))
	uniRes, err := b.load(ctx, "churn", condo.url, "uniform", uniform)
	if err != nil {
		return fmt.Errorf("condo uniform: %w", err)
	}
	raw2, err := b.rawLoop(ctx, b.f.duration)
	if err != nil {
		return fmt.Errorf("raw floor: %w", err)
	}
	raw := (raw1 + raw2) / 2
	type skewed struct {
		s   float64
		res loadResult
	}
	var zipfs []skewed
	for _, sk := range []float64{0.8, 1.0, 1.2} {
		name := fmt.Sprintf("zipf%.1f", sk)
		progress("load: condo at %s, all %d tenants, Zipf(%.1f)", condo.url, len(hosts), sk)
		res, err := b.load(ctx, name, condo.url, name, b.sequence(hosts, sk, seqLen))
		if err != nil {
			return fmt.Errorf("condo %s: %w", name, err)
		}
		zipfs = append(zipfs, skewed{sk, res})
	}
	// Requests still in flight when the load stops finish their opens;
	// wait (a bounded while) for the pool to settle before reading it.
	st := b.store.Stats()
	for i := 0; i < 50 && (st.Opening > 0 || st.Draining > 0 || st.Closing > 0); i++ {
		time.Sleep(100 * time.Millisecond)
		st = b.store.Stats()
	}
	mem := readRSS()

	pc := func(r loadResult) string { return fmt.Sprintf("%.1f%%", 100*r.rps/bareRes.rps) }
	b.info("HTTP bare echo, same bytes", rate(bareRes))
	b.info(fmt.Sprintf("HTTP condo, hot set of %d tenants (all open)", len(hot)), rate(hotRes))
	b.info("HTTP condo (hot set) / bare echo", pc(hotRes))
	b.info(fmt.Sprintf("HTTP condo, uniform over %d tenants, pool %d", len(hosts), b.f.pool), rate(uniRes)+", "+poolDesc(uniRes))
	b.add("HTTP condo uniform / bare echo", pc(uniRes), ">= 3%", uniRes.rps/bareRes.rps >= 0.03)
	for _, z := range zipfs {
		b.info(fmt.Sprintf("HTTP condo, Zipf(%.1f) over %d tenants, pool %d", z.s, len(hosts), b.f.pool), rate(z.res)+", "+poolDesc(z.res))
		if z.s == 1.0 {
			b.add("HTTP condo Zipf(1.0) / bare echo", pc(z.res), ">= 8%", z.res.rps/bareRes.rps >= 0.08)
		} else {
			b.info(fmt.Sprintf("HTTP condo Zipf(%.1f) / bare echo", z.s), pc(z.res))
		}
	}
	b.info(fmt.Sprintf("raw floor: open+query+close, %d goroutines (before / after uniform)", runtime.NumCPU()),
		fmt.Sprintf("%.0f / %.0f opens/s", raw1, raw2))
	opens := float64(uniRes.pool.Opens) / uniRes.elapsed.Seconds()
	b.add("condo opens/s under uniform churn / raw floor", fmt.Sprintf("%.0f / %.0f = %.0f%%", opens, raw, 100*opens/raw), ">= 85%", opens >= 0.85*raw)
	b.info("HTTP requests, non-2xx, errors (bare / hot / uniform)", counts(bareRes)+" / "+counts(hotRes)+" / "+counts(uniRes))
	b.info("HTTP response size on the wire (condo / bare)", fmt.Sprintf("%d B / %d B", condoWire, bareWire))
	b.info("pool stats after load", fmt.Sprintf("open %d, draining %d, closing %d, opening %d, size %d", st.Open, st.Draining, st.Closing, st.Opening, st.Size))
	b.add(fmt.Sprintf("RSS after load (%d handles open)", st.Open), fmtBytes(mem.rss), "< 300 MB", mem.rss < 300e6)
	b.info("memory after load", mem.String())
	for _, r := range append([]loadResult{uniRes, hotRes}, zipfs[0].res, zipfs[1].res, zipfs[2].res) {
		if r.non2xx > 0 || r.errors > 0 {
			progress("warning: condo answered %d non-2xx responses and %d requests failed", r.non2xx, r.errors)
		}
	}
	return nil
}

// poolDesc is the pool's hit rate and opens per second during a load,
// from the store's own counters.
func poolDesc(r loadResult) string {
	c := r.pool
	mean := time.Duration(0)
	if c.Opens > 0 {
		mean = c.OpenTime / time.Duration(c.Opens)
	}
	return fmt.Sprintf("pool hits %.1f%%, %.0f opens/s (mean open %s)", 100*c.HitRate(), float64(c.Opens)/r.elapsed.Seconds(), fmtDur(mean))
}

func rate(r loadResult) string {
	return fmt.Sprintf("%.0f req/s (latency p50 %s, p99 %s)", r.rps, fmtDur(r.p50), fmtDur(r.p99))
}

func counts(r loadResult) string {
	return fmt.Sprintf("%d, %d, %d", r.requests, r.non2xx, r.errors)
}

func catalogBaseDomain(b *bench) string { return b.cat.Config().BaseDomain }

// load runs the warm-up and then the measured load against url; phase
// names it for -profile.
func (b *bench) load(ctx context.Context, phase, url, seqName string, seq []string) (res loadResult, err error) {
	stop, err := startProfile(b.f, phase)
	if err != nil {
		return res, err
	}
	defer stop()
	run := b.goLoad
	if b.f.load == "wrk" {
		run = b.wrkLoad
	}
	// The warm-up and the measured load walk different parts of the
	// sequence, so the measured one does not replay tenants the warm-up
	// has just opened.
	if b.f.warmup > 0 {
		if _, err := run(ctx, url, seqName, seq, 0, b.f.warmup); err != nil {
			return loadResult{}, err
		}
	}
	before := b.store.Counters()
	res, err = run(ctx, url, seqName, seq, len(seq)/(2*max(b.f.threads, b.f.conns)), b.f.duration)
	res.pool = b.store.Counters().Sub(before)
	return res, err
}

// server is one handler served on a loopback listener.
type server struct {
	addr, url string
	stop      func()
}

func serve(h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		hs.Serve(ln)
	}()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
		<-done
	}
	addr := ln.Addr().String()
	return &server{addr: addr, url: "http://" + addr + "/api/tenant", stop: stop}, nil
}

// bareEcho answers GET /api/tenant with a fixed body and a request-id
// header of the real one's length, through echo with no middleware: the
// floor the real server's resolution, pool and query add to.
func bareEcho(body []byte, requestID string) http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/api/tenant", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderXRequestID, requestID)
		return c.JSONBlob(http.StatusOK, body)
	})
	return e
}

type response struct {
	status    int
	body      []byte
	requestID string
}

func get(ctx context.Context, url, host string) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return response{}, err
	}
	req.Host = host
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return response{resp.StatusCode, body, resp.Header.Get(echo.HeaderXRequestID)}, err
}

// wireBytes counts the bytes of one whole response, status line and
// headers included, as a client reads them off the socket.
func wireBytes(addr, host string) (int, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET /api/tenant HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host); err != nil {
		return 0, err
	}
	b, err := io.ReadAll(io.LimitReader(conn, 1<<20))
	return len(b), err
}

// goLoad is the built-in load generator: conns goroutines, each with its
// own keep-alive connection, sending requests back to back for d.
func (b *bench) goLoad(ctx context.Context, url, _ string, seq []string, offset int, d time.Duration) (loadResult, error) {
	const maxPerConn = 10_000_000 // a bound on top of the deadline
	conns := b.f.conns
	tr := &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
		DisableCompression: true, IdleConnTimeout: 30 * time.Second,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}

	type tally struct {
		lat            []time.Duration
		non2xx, errors int
	}
	tallies := make([]tally, conns)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := offset + w*len(seq)/conns // each connection walks its own part
			t := &tallies[w]
			t.lat = make([]time.Duration, 0, 1<<14)
			for i := 0; i < maxPerConn && time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if err != nil {
					t.errors++
					return
				}
				req.Host = seq[next%len(seq)]
				next++
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					t.errors++
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				t.lat = append(t.lat, time.Since(t0))
				if err != nil {
					t.errors++
				} else if resp.StatusCode/100 != 2 {
					t.non2xx++
				}
			}
		}()
	}
	wg.Wait()
	var res loadResult
	res.elapsed = time.Since(start)
	var lat []time.Duration
	for _, t := range tallies {
		lat = append(lat, t.lat...)
		res.non2xx += t.non2xx
		res.errors += t.errors
	}
	res.requests = len(lat)
	res.rps = float64(res.requests) / res.elapsed.Seconds()
	res.p50, res.p99 = pct(lat, 0.50), pct(lat, 0.99)
	return res, nil
}

// wrkScript walks the host sequence of a file; each wrk thread starts at
// its own part of it (threads is wrk's thread count).
const wrkScript = `local hosts = {}
local f = io.open(%q)
for line in f:lines() do hosts[#hosts + 1] = line end
f:close()
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
local next = 0
function init(args)
  next = %d + math.floor((thread_id - 1) * #hosts / %d)
end
function request()
  next = next %% #hosts + 1
  return wrk.format("GET", nil, {["Host"] = hosts[next]})
end
`

// wrkLoad runs wrk with the script above.
func (b *bench) wrkLoad(ctx context.Context, url, seqName string, seq []string, offset int, d time.Duration) (loadResult, error) {
	hostFile := filepath.Join(b.dir, "wrk-hosts-"+seqName+".txt")
	script := filepath.Join(b.dir, fmt.Sprintf("wrk-hosts-%s-%d.lua", seqName, offset))
	if _, err := os.Stat(script); err != nil {
		if _, err := os.Stat(hostFile); err != nil {
			if err := os.WriteFile(hostFile, []byte(strings.Join(seq, "\n")+"\n"), 0o640); err != nil {
				return loadResult{}, err
			}
		}
		if err := os.WriteFile(script, fmt.Appendf(nil, wrkScript, hostFile, offset, b.f.threads), 0o640); err != nil {
			return loadResult{}, err
		}
	}
	r, err := wrk.Run(ctx, url, script, b.f.threads, b.f.conns, d)
	return loadResult{requests: r.Requests, elapsed: r.Elapsed, rps: r.RPS, non2xx: r.Non2xx, errors: r.Errors, p50: r.P50, p99: r.P99}, err
}

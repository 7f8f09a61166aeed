package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/scripts/wrk"
)

// loadResult is what one load run measured.
type loadResult struct {
	requests int
	elapsed  time.Duration
	rps      float64
	non2xx   int
	errors   int
	p50, p99 time.Duration
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
	progress("load: bare echo at %s", bare.url)
	bareRes, err := b.load(ctx, "bare", bare.url, hosts)
	if err != nil {
		return fmt.Errorf("bare echo: %w", err)
	}
	// A hot set that fits the pool shows the cost of a request that
	// finds its tenant open; the full set is the churn the target is for.
	hot := hosts[:max(1, b.f.pool/2)]
	progress("load: condo at %s, %d hot tenants", condo.url, len(hot))
	hotRes, err := b.load(ctx, "hot", condo.url, hot)
	if err != nil {
		return fmt.Errorf("condo, hot set: %w", err)
	}
	progress("load: condo at %s, all %d tenants", condo.url, len(hosts))
	condoRes, err := b.load(ctx, "churn", condo.url, hosts)
	if err != nil {
		return fmt.Errorf("condo: %w", err)
	}
	// Requests still in flight when the load stops finish their opens;
	// wait (a bounded while) for the pool to settle before reading it.
	st := b.store.Stats()
	for i := 0; i < 50 && (st.Opening > 0 || st.Draining > 0); i++ {
		time.Sleep(100 * time.Millisecond)
		st = b.store.Stats()
	}
	mem := readRSS()

	ratio := condoRes.rps / bareRes.rps
	b.info("HTTP bare echo, same bytes", rate(bareRes))
	b.info(fmt.Sprintf("HTTP condo, all %d tenants (pool %d: churn)", len(hosts), b.f.pool), rate(condoRes))
	b.add("HTTP condo (churn) / bare echo", fmt.Sprintf("%.1f%%", 100*ratio), ">= 30%", ratio >= 0.30)
	b.info(fmt.Sprintf("HTTP condo, hot set of %d tenants (all open)", len(hot)), rate(hotRes))
	b.info("HTTP condo (hot set) / bare echo", fmt.Sprintf("%.1f%%", 100*hotRes.rps/bareRes.rps))
	b.info("HTTP requests, non-2xx, errors (bare)", counts(bareRes))
	b.info("HTTP requests, non-2xx, errors (condo churn)", counts(condoRes))
	b.info("HTTP requests, non-2xx, errors (condo hot)", counts(hotRes))
	b.info("HTTP response size on the wire (condo / bare)", fmt.Sprintf("%d B / %d B", condoWire, bareWire))
	b.info("HTTP pool hit rate if uniform (pool / tenants)", fmt.Sprintf("%.0f%%", 100*float64(b.f.pool)/float64(b.f.n)))
	b.info("pool stats after load", fmt.Sprintf("open %d, draining %d, opening %d, size %d", st.Open, st.Draining, st.Opening, st.Size))
	b.add(fmt.Sprintf("RSS after load (%d handles open)", st.Open), fmtBytes(mem.rss), "< 300 MB", mem.rss < 300e6)
	b.info("memory after load", mem.String())
	for _, r := range []loadResult{condoRes, hotRes} {
		if r.non2xx > 0 || r.errors > 0 {
			progress("warning: condo answered %d non-2xx responses and %d requests failed", r.non2xx, r.errors)
		}
	}
	return nil
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
func (b *bench) load(ctx context.Context, phase, url string, hosts []string) (res loadResult, err error) {
	stop, err := startProfile(b.f, phase)
	if err != nil {
		return res, err
	}
	defer stop()
	run := b.goLoad
	if b.f.load == "wrk" {
		run = b.wrkLoad
	}
	if b.f.warmup > 0 {
		if _, err := run(ctx, url, hosts, b.f.warmup); err != nil {
			return loadResult{}, err
		}
	}
	return run(ctx, url, hosts, b.f.duration)
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
func (b *bench) goLoad(ctx context.Context, url string, hosts []string, d time.Duration) (loadResult, error) {
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
			r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
			t := &tallies[w]
			t.lat = make([]time.Duration, 0, 1<<14)
			for i := 0; i < maxPerConn && time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if err != nil {
					t.errors++
					return
				}
				req.Host = hosts[r.IntN(len(hosts))]
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

// wrkScript picks a random tenant host for every request; each wrk
// thread seeds its own generator.
const wrkScript = `local hosts = {}
local f = io.open(%q)
for line in f:lines() do hosts[#hosts + 1] = line end
f:close()
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
function init(args)
  math.randomseed(os.time() * 1000 + thread_id)
end
function request()
  return wrk.format("GET", nil, {["Host"] = hosts[math.random(#hosts)]})
end
`

// wrkLoad runs wrk with the script above.
func (b *bench) wrkLoad(ctx context.Context, url string, hosts []string, d time.Duration) (loadResult, error) {
	hostFile := filepath.Join(b.dir, fmt.Sprintf("wrk-hosts-%d.txt", len(hosts)))
	script := filepath.Join(b.dir, fmt.Sprintf("wrk-random-host-%d.lua", len(hosts)))
	if _, err := os.Stat(script); err != nil {
		if err := os.WriteFile(hostFile, []byte(strings.Join(hosts, "\n")+"\n"), 0o640); err != nil {
			return loadResult{}, err
		}
		if err := os.WriteFile(script, fmt.Appendf(nil, wrkScript, hostFile), 0o640); err != nil {
			return loadResult{}, err
		}
	}
	r, err := wrk.Run(ctx, url, script, b.f.threads, b.f.conns, d)
	return loadResult{requests: r.Requests, elapsed: r.Elapsed, rps: r.RPS, non2xx: r.Non2xx, errors: r.Errors, p50: r.P50, p99: r.P99}, err
}

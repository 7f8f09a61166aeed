// Command contentbench measures the content API under load, side by side
// with a bare echo handler, as docs/PERFORMANCE.md records:
//
//	go run ./scripts/contentbench [-tenants 1000] [-items 100000] [-d 10s]
//
// It provisions -tenants tenants in a scratch directory, each with a
// public collection and one published item, and serves them three ways on
// 127.0.0.1: Condo with its content cache, Condo without it, and a bare
// echo handler answering the same bytes. wrk (-t2 -c32) requests a random
// tenant's item each time. Then one tenant gets -items items and wrk asks
// the default server, signed in with an API token (so no answer comes from
// the cache of anonymous reads; parsed collections and list totals are
// remembered per tenant generation, as in production), for filtered sorted
// lists of 20 over 2,000 different price ranges and for searches. It needs wrk
// (apt-get install -y wrk) and only ever loads 127.0.0.1.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/api"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/internal/bigfixture"
	"github.com/condohq/condo/plans"
	"github.com/condohq/condo/scripts/machine"
	"github.com/condohq/condo/scripts/wrk"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
)

var (
	tenants  = flag.Int("tenants", 1000, "tenants with one published item each")
	items    = flag.Int("items", 100_000, "items in the big tenant")
	duration = flag.Duration("d", 10*time.Second, "each wrk run")
	conns    = flag.Int("c", 32, "wrk connections")
	keep     = flag.Bool("keep", false, "keep the data directory")
	dataDir  = flag.String("dir", "", "the data directory to use and keep (a second run reuses its tenants)")
	reads    = flag.Bool("reads", true, "measure reads across -tenants tenants")
	search   = flag.Bool("search", true, "measure searches")
	big      = flag.Bool("big", true, "measure lists (and searches) in a tenant of -items items")
	cpuProf  = flag.String("cpuprofile", "", "write a CPU profile of the lists and searches to this file")
	build    = flag.Bool("build", false, "only build tenant big in -dir and print its file (no wrk needed): the fixture of cms's in-process search and list benchmarks")
)

const schema = `{"type": "object", "properties": {"title": {"type": "string"}, "body": {"type": "richtext"},
	"price": {"type": "number", "indexed": true}, "kind": {"type": "select", "enum": ["news", "review", "guide"]}}}`

// vocabulary is the big tenant's words, most frequent first.
var vocabulary = bigfixture.Vocabulary

// zipfWords draws n words of vocabulary with probability 1/rank.
type zipfWords struct {
	rng *rand.Rand
	cdf []float64
}

func newZipfWords(seed uint64) *zipfWords {
	z := &zipfWords{rng: rand.New(rand.NewPCG(seed, seed+1)), cdf: make([]float64, len(vocabulary))}
	sum := 0.0
	for i := range vocabulary {
		sum += 1 / float64(i+1)
		z.cdf[i] = sum
	}
	for i := range z.cdf {
		z.cdf[i] /= sum
	}
	return z
}

func (z *zipfWords) text(n int) string {
	w := make([]string, n)
	for i := range w {
		k, _ := slices.BinarySearch(z.cdf, z.rng.Float64())
		w[i] = vocabulary[min(k, len(vocabulary)-1)]
	}
	return strings.Join(w, " ")
}

func main() {
	flag.Parse()
	if *build {
		if *dataDir == "" {
			log.Fatal("-build needs -dir")
		}
		if err := buildBig(context.Background(), *dataDir); err != nil {
			log.Fatal(err)
		}
		return
	}
	if !wrk.Installed() {
		log.Fatal("contentbench needs wrk: apt-get install -y wrk")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir := *dataDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "contentbench-"); err != nil {
			log.Fatal(err)
		}
		if !*keep {
			defer os.RemoveAll(dir)
		}
	}
	if err := run(ctx, dir); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, dir string) error {
	fmt.Printf("machine: %s, %d CPUs, %d MiB RAM, %s\ndata: %s\n\n", machine.CPUModel(), runtime.NumCPU(), machine.MemTotal()>>20, runtime.Version(), dir)
	cat, err := catalog.Open(ctx, dir, catalog.Config{CacheSize: 4 * *tenants, Plans: plans.Builtin().Unmetered()})
	if err != nil {
		return err
	}
	defer cat.Close()
	store := tenantstore.New(cat, tenantstore.Config{DataDir: dir, PoolSize: 2 * *tenants})
	defer store.Close(context.Background())

	if *reads {
		if err := runReads(ctx, dir, cat, store); err != nil {
			return err
		}
	}
	if !*big {
		return nil
	}
	return runBig(ctx, dir, cat, store)
}

// runReads provisions -tenants tenants with one published item each and
// loads reads of a random one, cached and not, beside bare echo.
func runReads(ctx context.Context, dir string, cat *catalog.Catalog, store *tenantstore.Store) error {
	start := time.Now()
	var reqs []string    // "host\tpath\tauthorization"
	var sqlReqs []string // "host\t/v2/pipeline\tauthorization\tbody": the same item through the libSQL endpoint
	for i := range *tenants {
		id := fmt.Sprintf("t%05d", i)
		var it *cms.Item
		err := provision(ctx, store, id, func(st *cms.Store, col *cms.Collection) (err error) {
			it, err = st.CreateItem(ctx, col, cms.ItemInput{Title: "Hello from " + id, Status: cms.StatusPublished,
				Data: map[string]any{"body": "<p>A short <b>published</b> post for the benchmark.</p>", "price": 9.5, "kind": "news"}}, "")
			return err
		})
		if err != nil {
			return err
		}
		reqs = append(reqs, id+".localhost\t/api/content/"+it.ID+"\t")
		tok, err := sqlToken(ctx, store, id, auth.SQLRead)
		if err != nil {
			return err
		}
		// What @libsql/client's execute() sends: execute, then close.
		sqlReqs = append(sqlReqs, id+".localhost\t/v2/pipeline\tBearer "+tok+"\t"+`{"baton":null,"requests":[{"type":"execute","stmt":{"sql":`+
			`"SELECT id, title, status, data FROM content WHERE id = ?","args":[{"type":"text","value":"`+it.ID+`"}]}},{"type":"close"}]}`)
	}
	fmt.Printf("provisioned %d tenants in %s\n", *tenants, time.Since(start).Round(time.Millisecond))

	// Streams live a minute idle here (10 s by default), so the idle
	// streams measured below outlive the wait for their pools.
	streams := hrana.New(store, hrana.Config{IdleTimeout: time.Minute})
	streamsCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	go streams.Run(streamsCtx)
	cached := api.New(cat, store, api.Config{})
	uncached := api.New(cat, store, api.Config{ContentCache: -1, Streams: streams})
	body, err := sample(cached, reqs[0])
	if err != nil {
		return err
	}
	bare := echo.New()
	bare.GET("/api/content/:id", func(c echo.Context) error { return c.JSONBlob(http.StatusOK, body) })
	readScript, err := script(dir, "reads", reqs)
	if err != nil {
		return err
	}
	fmt.Printf("\nGET /api/content/:id, anonymous, %d tenants, %d-byte answer, wrk -t2 -c%d -d%s\n", *tenants, len(body), *conns, *duration)
	var results []wrk.Result
	for _, s := range []struct {
		name string
		h    http.Handler
	}{{"bare echo", bare}, {"condo, cache on", cached}, {"condo, cache off", uncached}} {
		r, err := load(ctx, s.h, readScript)
		if err != nil {
			return err
		}
		results = append(results, r)
		fmt.Printf("  %-18s %9.0f req/s  p50 %-8s p99 %-8s non-2xx %d  (%.1f%% of bare echo)\n", s.name, r.RPS, r.P50, r.P99, r.Non2xx, 100*r.RPS/results[0].RPS)
	}
	sqlScript, err := script(dir, "sql", sqlReqs)
	if err != nil {
		return err
	}
	// Idle streams first, while no tenant has a stream connection open
	// (a stream's cost is mostly its connection, which the pool keeps).
	// 1,000 streams, 16 a tenant (the most one tenant may open), then one
	// on each of 1,000 tenants, where each tenant's first stream also
	// opens a connection of its database (kept in its pool when idle).
	var packed []string
	for i := range 1000 {
		packed = append(packed, sqlReqs[min(i/16, len(sqlReqs)-1)])
	}
	// First let the reads' idle connections close (after
	// sqlitedb.DefaultIdleTime), or their closing would be counted off
	// what the streams add.
	time.Sleep(sqlitedb.DefaultIdleTime + time.Second)
	for _, run := range []struct {
		name string
		reqs []string
	}{{"16 a tenant", packed}, {"one a tenant", sqlReqs}} {
		n, rss, err := idleStreams(ctx, uncached, run.reqs)
		if err != nil {
			return err
		}
		fmt.Printf("  libSQL idle streams: %d streams (%s): RSS grew %.1f MB (target: 1,000 under 50 MB)\n", n, run.name, float64(rss)/1e6)
	}
	if err := sampleSQL(uncached, sqlReqs[0]); err != nil {
		return err
	}
	r, err := load(ctx, uncached, sqlScript)
	if err != nil {
		return err
	}
	fmt.Printf("  %-18s %9.0f req/s  p50 %-8s p99 %-8s non-2xx %d  (%.1f%% of bare echo, %.0f%% of condo with the cache off; target 50%%)\n",
		"libSQL execute", r.RPS, r.P50, r.P99, r.Non2xx, 100*r.RPS/results[0].RPS, 100*r.RPS/results[2].RPS)

	writer, err := sqlToken(ctx, store, "t00000", auth.SQLWrite)
	if err != nil {
		return err
	}
	rows, err := runBatches(ctx, uncached, "t00000.localhost\t/v2/pipeline\tBearer "+writer+"\t", *duration)
	if err != nil {
		return err
	}
	fmt.Printf("\nlibSQL batch of 100 INSERTs in one transaction, one tenant, one client: %.0f rows/s (target 50,000)\n", rows)
	return nil
}

// sqlToken mints a libSQL token of tenant id with perm, as `condo tokens
// create ID --sql read|write` does.
func sqlToken(ctx context.Context, store *tenantstore.Store, id, perm string) (string, error) {
	h, release, err := store.Acquire(ctx, id)
	if err != nil {
		return "", err
	}
	defer release()
	_, secret, err := auth.New(id, h.DB).CreateAPIToken(ctx, auth.NewAPIToken{Name: "bench", Permissions: auth.MustPerms(perm)})
	return secret, err
}

// buildBig only fills tenant big in dir and prints the path of its file,
// for CONDO_BENCH_BIG (cms/search_bench_test.go).
func buildBig(ctx context.Context, dir string) error {
	cat, err := catalog.Open(ctx, dir, catalog.Config{Plans: plans.Builtin().Unmetered()})
	if err != nil {
		return err
	}
	defer cat.Close()
	store := tenantstore.New(cat, tenantstore.Config{DataDir: dir})
	defer store.Close(context.Background())
	if err := fillBig(ctx, store); err != nil {
		return err
	}
	path, err := store.Path("big")
	fmt.Println(path)
	return err
}

// fillBig fills tenant big with -items items, or reuses it.
func fillBig(ctx context.Context, store *tenantstore.Store) error {
	start := time.Now()
	err := provision(ctx, store, "big", func(st *cms.Store, col *cms.Collection) error {
		rng, zw := rand.New(rand.NewPCG(1, 2)), newZipfWords(9)
		for i := range *items {
			// One item in ten is a draft, which anonymous searches must skip.
			status := cms.StatusPublished
			if rng.IntN(10) == 0 {
				status = cms.StatusDraft
			}
			_, err := st.CreateItem(ctx, col, cms.ItemInput{Title: fmt.Sprintf("Item %d %s", i, zw.text(3)), Status: status,
				Data: map[string]any{"body": "<p>" + zw.text(20+rng.IntN(40)) + "</p>", "price": float64(rng.IntN(100_000)) / 10,
					"kind": []string{"news", "review", "guide"}[rng.IntN(3)]}}, "")
			if err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case condo.ErrorCode(err) == condo.ECONFLICT:
		fmt.Printf("\nreusing tenant big\n")
	case err != nil:
		return err
	default:
		fmt.Printf("\nprovisioned %d items in tenant big in %s (%.0f items/s, one at a time)\n", *items, time.Since(start).Round(time.Millisecond),
			float64(*items)/time.Since(start).Seconds())
	}
	return nil
}

// runBig fills tenant big with -items items (or reuses it, with -dir) and
// loads lists and searches side by side with their floors: a bare echo
// handler answering a list's bytes, and the raw ranked FTS5 query on the
// same file.
func runBig(ctx context.Context, dir string, cat *catalog.Catalog, store *tenantstore.Store) error {
	if err := fillBig(ctx, store); err != nil {
		return err
	}
	h, release, err := store.Acquire(ctx, "big")
	if err != nil {
		return err
	}
	defer release()
	id := auth.New("big", h.DB)
	u, err := id.CreateUser(ctx, auth.NewUser{Email: fmt.Sprintf("bench%d@example.com", time.Now().UnixNano()), Password: "bench password", Role: auth.RoleAdmin},
		auth.Limits{Users: 1000, Policy: auth.DefaultPasswordPolicy})
	if err != nil {
		return err
	}
	_, token, err := id.CreateAPIToken(ctx, auth.NewAPIToken{Name: "bench", UserID: u.ID, Permissions: auth.MustPerms(auth.ContentRead, auth.ContentReadDrafts)})
	if err != nil {
		return err
	}
	srv := api.New(cat, store, api.Config{})

	wheres, commonWords, rareWords := bigfixture.Queries()
	var lists, common, rare []string
	for i := range wheres {
		lists = append(lists, "big.localhost\t/api/collections/posts/content?limit=20&sort=-data.price&where="+url.QueryEscape(wheres[i])+"\tBearer "+token)
		common = append(common, "big.localhost\t/api/search?limit=20&q="+commonWords[i]+"\t")
		rare = append(rare, "big.localhost\t/api/search?limit=20&q="+rareWords[i]+"\t")
	}
	body, err := sample(srv, lists[0])
	if err != nil {
		return err
	}
	bare := echo.New()
	bare.GET("/*", func(c echo.Context) error { return c.JSONBlob(http.StatusOK, body) })
	// The floor for search: FTS5's own ranked query, every match scored,
	// on the same file and connections, answering rowids and ranks.
	raw := echo.New()
	raw.GET("/api/search", func(c echo.Context) error {
		body, err := bigfixture.RawSearch(c.Request().Context(), h.Reader(), c.QueryParam("q"))
		if err != nil {
			return err
		}
		return c.JSONBlob(http.StatusOK, body)
	})
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("\nfiltered sorted list of 20 (price range ~1%%, sort -price) over %d items, signed in; %d-byte answer; machine load %s\n", *items, len(body), loadAvg())
	sc, err := script(dir, "list", lists)
	if err != nil {
		return err
	}
	fl, err := loadWith(ctx, bare, sc, *conns)
	if err != nil {
		return err
	}
	fmt.Printf("  %-22s wrk -c%-3d %9.0f req/s  p50 %-8s p99 %s\n", "bare echo", *conns, fl.RPS, fl.P50, fl.P99)
	for _, c := range []int{1, *conns} {
		r, err := loadWith(ctx, srv, sc, c)
		if err != nil {
			return err
		}
		fmt.Printf("  %-22s wrk -c%-3d %9.0f req/s  p50 %-8s p99 %-8s non-2xx %d  (%.1f%% of bare echo)\n", "condo", c, r.RPS, r.P50, r.P99, r.Non2xx, 100*r.RPS/fl.RPS)
	}
	if !*search {
		return nil
	}
	for _, s := range []struct {
		name string
		reqs []string
	}{{"common words (the 10 most frequent)", common}, {"rare words (frequency ranks 1,000-3,000)", rare}} {
		sc, err := script(dir, s.name[:4], s.reqs)
		if err != nil {
			return err
		}
		fmt.Printf("\nsearch, limit 20, anonymous, %s, over %d items; machine load %s\n", s.name, *items, loadAvg())
		var floor wrk.Result
		for _, x := range []struct {
			name string
			h    http.Handler
		}{{"raw FTS5 ORDER BY rank", raw}, {"condo", srv}} {
			for _, c := range []int{1, *conns} {
				r, err := loadWith(ctx, x.h, sc, c)
				if err != nil {
					return err
				}
				ratio := ""
				if x.h == raw && c == *conns {
					floor = r
				} else if c == *conns {
					ratio = fmt.Sprintf("(%.1fx the raw query)", r.RPS/floor.RPS)
				}
				fmt.Printf("  %-22s wrk -c%-3d %9.0f req/s  p50 %-8s p99 %-8s non-2xx %d  %s\n", x.name, c, r.RPS, r.P50, r.P99, r.Non2xx, ratio)
			}
		}
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// provision creates a tenant with a public posts collection and runs fill
// on its content store.
func provision(ctx context.Context, store *tenantstore.Store, id string, fill func(*cms.Store, *cms.Collection) error) error {
	if _, err := store.Create(ctx, catalog.NewTenant{ID: id}); err != nil {
		return err
	}
	h, release, err := store.Acquire(ctx, id)
	if err != nil {
		return err
	}
	defer release()
	st := cms.New(id, h.DB, store.MediaDir(id))
	col, err := st.CreateCollection(ctx, cms.NewCollection{Name: "posts", Public: true, Schema: json.RawMessage(schema)})
	if err != nil {
		return err
	}
	return fill(st, col)
}

// sample fetches one real answer, for the bare handler to repeat.
// sampleSQL checks that the libSQL request req answers its item's row.
func sampleSQL(h http.Handler, req string) error {
	f := strings.Split(req, "\t")
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, f[1], strings.NewReader(f[3]))
	r.Host = f[0]
	r.Header.Set("Authorization", f[2])
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"rows":[[{"type":"text"`) {
		return fmt.Errorf("libSQL sample answer: %d %s", w.Code, w.Body)
	}
	return nil
}

func sample(h http.Handler, req string) ([]byte, error) {
	f := strings.Split(req, "\t")
	srv, stop, err := listen(h)
	if err != nil {
		return nil, err
	}
	defer stop()
	r, _ := http.NewRequest(http.MethodGet, srv+f[1], nil)
	r.Host = f[0]
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(res.Body).Decode(&raw); err != nil || res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sample answer: %d %v", res.StatusCode, err)
	}
	return raw, nil
}

// load serves h on a loopback listener, warms it up for 2 s and runs wrk.
func load(ctx context.Context, h http.Handler, script string) (wrk.Result, error) {
	return loadWith(ctx, h, script, *conns)
}

// loadWith is load with conns connections (one wrk thread for one).
func loadWith(ctx context.Context, h http.Handler, script string, conns int) (wrk.Result, error) {
	srv, stop, err := listen(h)
	if err != nil {
		return wrk.Result{}, err
	}
	defer stop()
	threads := min(2, conns)
	// The warm-up may finish no request (the raw query of a common word
	// takes seconds under load); only the measured run must.
	if _, err := wrk.Run(ctx, srv, script, threads, conns, 2*time.Second); err != nil && ctx.Err() != nil {
		return wrk.Result{}, err
	}
	return wrk.Run(ctx, srv, script, threads, conns, *duration)
}

func listen(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln) // ends at Close below
	return "http://" + ln.Addr().String(), func() { hs.Close() }, nil
}

// luaScript sends each request to a random line of a
// "host\tpath\tauthorization[\tbody]" file: a POST of the body where the
// line has one, else a GET.
const luaScript = `local reqs = {}
local f = io.open(%q)
for line in f:lines() do
  local host, path, auth, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
  reqs[#reqs + 1] = {host = host, path = path, auth = auth, body = body}
end
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
  local r = reqs[math.random(#reqs)]
  local headers = {["Host"] = r.host}
  if r.auth ~= "" then headers["Authorization"] = r.auth end
  if r.body ~= "" then return wrk.format("POST", r.path, headers, r.body) end
  return wrk.format("GET", r.path, headers)
end
`

func script(dir, name string, reqs []string) (string, error) {
	list := filepath.Join(dir, "wrk-"+name+".txt")
	if err := os.WriteFile(list, []byte(strings.Join(reqs, "\n")+"\n"), 0o640); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "wrk-"+name+".lua")
	return path, os.WriteFile(path, fmt.Appendf(nil, luaScript, list), 0o640)
}

// loadAvg is the machine's load average over the last minute, to read
// each figure against.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

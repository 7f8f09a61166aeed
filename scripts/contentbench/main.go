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
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/scripts/machine"
	"github.com/condohq/condo/scripts/wrk"
	"github.com/condohq/condo/tenantstore"
)

var (
	tenants  = flag.Int("tenants", 1000, "tenants with one published item each")
	items    = flag.Int("items", 100_000, "items in the big tenant")
	duration = flag.Duration("d", 10*time.Second, "each wrk run")
	conns    = flag.Int("c", 32, "wrk connections")
	keep     = flag.Bool("keep", false, "keep the data directory")
)

const schema = `{"type": "object", "properties": {"title": {"type": "string"}, "body": {"type": "richtext"},
	"price": {"type": "number", "indexed": true}, "kind": {"type": "select", "enum": ["news", "review", "guide"]}}}`

var words = strings.Fields(`sourdough flour water salt starter oven crust crumb rye spelt wheat barley honey butter
	olive garlic basil tomato pepper lemon ginger cinnamon vanilla cocoa almond walnut hazelnut pistachio apple pear`)

func main() {
	flag.Parse()
	if !wrk.Installed() {
		log.Fatal("contentbench needs wrk: apt-get install -y wrk")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir, err := os.MkdirTemp("", "contentbench-")
	if err != nil {
		log.Fatal(err)
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	if err := run(ctx, dir); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, dir string) error {
	fmt.Printf("machine: %s, %d CPUs, %d MiB RAM, %s\ndata: %s\n\n", machine.CPUModel(), runtime.NumCPU(), machine.MemTotal()>>20, runtime.Version(), dir)
	cat, err := catalog.Open(ctx, dir, catalog.Config{CacheSize: 4 * *tenants})
	if err != nil {
		return err
	}
	defer cat.Close()
	store := tenantstore.New(cat, tenantstore.Config{DataDir: dir, PoolSize: 2 * *tenants})
	defer store.Close(context.Background())

	start := time.Now()
	var reqs []string // "host\tpath\tauthorization"
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
	}
	fmt.Printf("provisioned %d tenants in %s\n", *tenants, time.Since(start).Round(time.Millisecond))

	cached := api.New(cat, store, api.Config{})
	uncached := api.New(cat, store, api.Config{ContentCache: -1})
	body, err := sample(cached, reqs[0])
	if err != nil {
		return err
	}
	bare := echo.New()
	bare.GET("/api/content/:id", func(c echo.Context) error { return c.JSONBlob(http.StatusOK, body) })
	reads, err := script(dir, "reads", reqs)
	if err != nil {
		return err
	}
	fmt.Printf("\nGET /api/content/:id, anonymous, %d tenants, %d-byte answer, wrk -t2 -c%d -d%s\n", *tenants, len(body), *conns, *duration)
	var results []wrk.Result
	for _, s := range []struct {
		name string
		h    http.Handler
	}{{"bare echo", bare}, {"condo, cache on", cached}, {"condo, cache off", uncached}} {
		r, err := load(ctx, s.h, reads)
		if err != nil {
			return err
		}
		results = append(results, r)
		fmt.Printf("  %-18s %9.0f req/s  p50 %-8s p99 %-8s non-2xx %d  (%.1f%% of bare echo)\n", s.name, r.RPS, r.P50, r.P99, r.Non2xx, 100*r.RPS/results[0].RPS)
	}

	// One big tenant for lists and search.
	start = time.Now()
	var token string
	err = provision(ctx, store, "big", func(st *cms.Store, col *cms.Collection) error {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range *items {
			text := words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))]
			_, err := st.CreateItem(ctx, col, cms.ItemInput{Title: fmt.Sprintf("Item %d %s", i, text), Status: cms.StatusPublished,
				Data: map[string]any{"body": "<p>" + text + " " + words[rng.IntN(len(words))] + "</p>", "price": float64(rng.IntN(100_000)) / 10,
					"kind": []string{"news", "review", "guide"}[rng.IntN(3)]}}, "")
			if err != nil {
				return err
			}
		}
		id := auth.New("big", st.DB)
		u, err := id.CreateUser(ctx, auth.NewUser{Email: "bench@example.com", Password: "bench password", Role: auth.RoleAdmin},
			auth.Limits{Users: 10, Policy: auth.DefaultPasswordPolicy})
		if err != nil {
			return err
		}
		_, token, err = id.CreateAPIToken(ctx, auth.NewAPIToken{Name: "bench", UserID: u.ID, Permissions: auth.MustPerms(auth.ContentRead, auth.ContentReadDrafts)})
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("\nprovisioned %d items in tenant big in %s (%.0f items/s, one at a time)\n", *items, time.Since(start).Round(time.Millisecond),
		float64(*items)/time.Since(start).Seconds())
	rng := rand.New(rand.NewPCG(3, 4))
	var lists, searches []string
	for range 2000 {
		lo := rng.IntN(9800)
		where := fmt.Sprintf(`{"and":[{"field":"data.price","operator":"greater_than_equal","value":%d},{"field":"data.price","operator":"less_than","value":%d}]}`, lo, lo+100)
		lists = append(lists, "big.localhost\t/api/collections/posts/content?limit=20&sort=-data.price&where="+url.QueryEscape(where)+"\tBearer "+token)
		searches = append(searches, "big.localhost\t/api/search?limit=20&q="+words[rng.IntN(len(words))]+"\tBearer "+token)
	}
	for _, s := range []struct {
		name, target string
		reqs         []string
		p99          time.Duration
	}{
		{"filtered sorted list of 20 (price range ~1%, sort -price)", "p99 < 10 ms", lists, 10 * time.Millisecond},
		{"search, limit 20", "p99 < 20 ms", searches, 20 * time.Millisecond},
	} {
		sc, err := script(dir, s.name[:4], s.reqs)
		if err != nil {
			return err
		}
		fmt.Printf("\n%s over %d items, signed in, target %s:\n", s.name, *items, s.target)
		for _, c := range []int{1, *conns} {
			r, err := loadWith(ctx, cached, sc, c)
			if err != nil {
				return err
			}
			fmt.Printf("  wrk -c%-3d %9.0f req/s  p50 %-8s p99 %-8s non-2xx %d  %s\n", c, r.RPS, r.P50, r.P99, r.Non2xx, verdict(r.P99 <= s.p99 && r.Non2xx == 0))
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
	if _, err := wrk.Run(ctx, srv, script, threads, conns, 2*time.Second); err != nil {
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

// luaScript sends each request to a random line of a "host\tpath\tauth"
// file.
const luaScript = `local reqs = {}
local f = io.open(%q)
for line in f:lines() do
  local host, path, auth = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
  reqs[#reqs + 1] = {host = host, path = path, auth = auth}
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

// Command bench measures the tenancy core: provisioning, the tenant pool
// and the HTTP path of tenant resolution, on real files in a scratch data
// directory. It prints one table; docs/PERFORMANCE.md records a run.
//
//	go run ./scripts/bench -n 10000
//
// Phases, in order:
//
//  1. create: N tenants, one at a time, through tenantstore.Store.Create;
//     each call is timed.
//  2. schema: the floor of opening a tenant file: modernc's driver alone
//     opening, running GET /api/tenant's point query on and closing a
//     tenant file and a file of one table, interleaved.
//  3. cold: Acquire + a first query of tenants never opened before, first
//     while the pool has room, then while it is full (each acquire then
//     evicts a handle, which the store's closer closes), each beside the
//     raw open + query + close of the same file just before; then the
//     memory and descriptors each open handle holds.
//  4. warm: Acquire + release of an open tenant, timed in batches.
//  5. http: the real API server (api.New) and a bare echo handler that
//     writes the same bytes, each on its own 127.0.0.1 listener, loaded in
//     turn with wrk (or the built-in Go client), each request to the next
//     tenant host of a seeded sequence (the same on every run): the bare
//     handler; the API over a hot set of -pool/2 tenants that all stay
//     open; the raw floor (modernc opening, querying and closing tenant
//     files on as many goroutines as CPUs); the API over every tenant
//     drawn uniformly (churn); the raw floor again; and the API under
//     Zipf(0.8), Zipf(1.0) and Zipf(1.2) tenant choice. Each Condo load
//     reports the pool's hit rate and opens per second from its counters.
//
// Every loop is bounded in count and time, and the load only ever targets
// 127.0.0.1. Targets are printed beside the results; they never fail the
// run. An interrupt stops the run and removes the data directory (unless
// -keep).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/plans"
	"github.com/condohq/condo/tenantstore"

	"github.com/condohq/condo/scripts/machine"
)

// flags are the command's settings.
type flags struct {
	n          int
	pool       int
	sample     int
	load       string
	conns      int
	threads    int
	duration   time.Duration
	warmup     time.Duration
	dir        string
	keep       bool
	cpuprofile string
	profile    string
	seed       uint64
}

func parseFlags(args []string) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&f.n, "n", 10000, "tenants to provision")
	fs.IntVar(&f.pool, "pool", 1000, "tenant pool size (open handles kept); smaller than -n so the HTTP load churns")
	fs.IntVar(&f.sample, "sample", 1000, "tenants in each cold-Acquire sample (two samples: pool with room, pool full)")
	fs.StringVar(&f.load, "load", "auto", "load generator: wrk, go, or auto (wrk when installed)")
	fs.IntVar(&f.conns, "c", 32, "concurrent keep-alive connections of the load")
	fs.IntVar(&f.threads, "t", 2, "wrk threads")
	fs.DurationVar(&f.duration, "d", 10*time.Second, "measured load duration per server")
	fs.DurationVar(&f.warmup, "warmup", 2*time.Second, "unmeasured load before each measured one")
	fs.StringVar(&f.dir, "dir", "", "parent of the scratch data directory (default: the system temp dir)")
	fs.BoolVar(&f.keep, "keep", false, "keep the scratch data directory")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of one phase (-profile) to this file")
	fs.StringVar(&f.profile, "profile", "churn", "phase to profile: create, schema, cold, warm, or the HTTP load of bare, hot, churn (uniform), zipf0.8, zipf1.0 or zipf1.2")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the random tenant order and of the loads' host sequences")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case f.n < 2:
		return nil, errors.New("-n must be at least 2")
	case f.pool < 1 || f.pool >= f.n:
		return nil, errors.New("-pool must be at least 1 and smaller than -n")
	case f.sample < 1:
		return nil, errors.New("-sample must be positive")
	case f.conns < 1 || f.conns > 1024 || f.threads < 1 || f.threads > f.conns:
		return nil, errors.New("-c must be 1..1024 and -t 1..c")
	case f.duration <= 0 || f.duration > 10*time.Minute || f.warmup < 0 || f.warmup > time.Minute:
		return nil, errors.New("-d must be in (0, 10m] and -warmup in [0, 1m]")
	}
	switch f.profile {
	case "create", "schema", "cold", "warm", "bare", "hot", "churn", "zipf0.8", "zipf1.0", "zipf1.2":
	default:
		return nil, fmt.Errorf("unknown -profile phase %q", f.profile)
	}
	switch f.load {
	case "wrk", "go":
	case "auto":
		f.load = "go"
		if _, err := exec.LookPath("wrk"); err == nil {
			f.load = "wrk"
		}
	default:
		return nil, fmt.Errorf("unknown -load %q: use wrk, go or auto", f.load)
	}
	// The "room" sample must fit the pool, and both samples need tenants
	// never opened before.
	f.sample = min(f.sample, f.pool, f.n/2)
	return f, nil
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("bench: ")
	f, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, f, os.Stdout)
	stop()
	if err != nil {
		log.Fatal(err)
	}
}

// bench carries one run's state between phases.
type bench struct {
	f     *flags
	dir   string
	cat   *catalog.Catalog
	store *tenantstore.Store
	ids   []string // every tenant, in a random order
	rows  []row
}

func run(ctx context.Context, f *flags, out io.Writer) (err error) {
	start := time.Now()
	dir, err := os.MkdirTemp(f.dir, "condo-bench-")
	if err != nil {
		return err
	}
	if f.keep {
		defer fmt.Fprintf(os.Stderr, "kept data directory %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	printHeader(out, f, dir)

	cat, err := catalog.Open(ctx, dir, catalog.Config{Plans: plans.Builtin().Unmetered()})
	if err != nil {
		return err
	}
	defer cat.Close()
	store := tenantstore.New(cat, tenantstore.Config{DataDir: dir, PoolSize: f.pool})
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if cerr := store.Close(cctx); err == nil {
			err = cerr
		}
	}()
	b := &bench{f: f, dir: dir, cat: cat, store: store}

	phases := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"create", b.create},
		{"schema", b.schema},
		{"cold", b.cold},
		{"warm", b.warm},
		{"http", b.http},
	}
	for _, p := range phases {
		stop, err := startProfile(f, p.name)
		if err != nil {
			return err
		}
		progress("phase %s", p.name)
		err = p.fn(ctx)
		stop()
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	fmt.Fprintln(out)
	printTable(out, b.rows)
	fmt.Fprintf(out, "\ntotal run time %s\n", time.Since(start).Round(time.Second))
	return nil
}

// startProfile starts the CPU profile when phase is the one asked for.
func startProfile(f *flags, phase string) (stop func(), err error) {
	if f.cpuprofile == "" || f.profile != phase {
		return func() {}, nil
	}
	pf, err := os.Create(f.cpuprofile)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		pf.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); pf.Close() }, nil
}

// tenantID names tenant i; every id has the same length, so every
// response of the API has the same size.
func tenantID(i, n int) string {
	return fmt.Sprintf("t%0*d", idWidth(n), i)
}

func idWidth(n int) int { return max(5, len(fmt.Sprint(n-1))) }

// create provisions every tenant, one at a time, and times each Create.
func (b *bench) create(ctx context.Context) error {
	n := b.f.n
	times := make([]time.Duration, 0, n)
	var probe *diskProbe
	var size int64
	began := time.Now()
	for i := range n {
		id := tenantID(i, n)
		t0 := time.Now()
		if _, err := b.store.Create(ctx, catalog.NewTenant{ID: id}); err != nil {
			return err
		}
		times = append(times, time.Since(t0))
		if i == 0 {
			path, _ := b.store.Path(id)
			fi, err := os.Stat(path)
			if err != nil {
				return err
			}
			size = fi.Size()
			if probe, err = newDiskProbe(b.dir, int(size)); err != nil {
				return err
			}
			defer probe.close()
		}
		// Every 50th Create, the disk floor: not counted in the total.
		if i%50 == 25 {
			t := time.Now()
			if err := probe.step(); err != nil {
				return err
			}
			began = began.Add(time.Since(t))
		}
		if (i+1)%1000 == 0 {
			progress("created %d/%d", i+1, n)
		}
	}
	total := time.Since(began)
	rss := readRSS()
	if len(probe.times) == 0 {
		if err := probe.step(); err != nil {
			return err
		}
	}
	disk := probe.times
	if err := probe.close(); err != nil { // before measuring the data directory
		return err
	}

	// The first Create also builds the schema template; report it apart.
	first := times[0]
	rest := times[1:]
	b.add("tenant creation p50", fmtDur(pct(rest, 0.50)), "< 3 ms", pct(rest, 0.50) < 3*time.Millisecond)
	b.add("tenant creation p99", fmtDur(pct(rest, 0.99)), "< 10 ms", pct(rest, 0.99) < 10*time.Millisecond)
	b.info("tenant creation p90 / p99.9 / max", fmtDur(pct(rest, 0.90))+" / "+fmtDur(pct(rest, 0.999))+" / "+fmtDur(pct(rest, 1)))
	b.info("first Create (also builds the template)", fmtDur(first))
	b.info(fmt.Sprintf("disk floor: mkdir, write %s, 3 fsyncs p50 / p99", fmtBytes(size)),
		fmt.Sprintf("%s / %s (%d probes between Creates)", fmtDur(pct(disk, 0.50)), fmtDur(pct(disk, 0.99)), len(disk)))
	b.info("provisioning throughput", fmt.Sprintf("%d tenants in %s (%.0f/s)", n, total.Round(time.Millisecond), float64(n)/total.Seconds()))
	b.info("data directory size after provisioning", fmtBytes(dirSize(b.dir)))
	b.add("RSS after provisioning (0 handles open)", fmtBytes(rss.rss), "< 300 MB", rss.rss < 300e6)
	b.info("memory after provisioning", rss.String())

	// The cold and load phases pick tenants in a random order.
	r := rand.New(rand.NewPCG(b.f.seed, 0))
	b.ids = make([]string, n)
	for i, j := range r.Perm(n) {
		b.ids[i] = tenantID(j, n)
	}
	return nil
}

// cold acquires tenants never opened before and runs a first query on
// each: first with room in the pool, then with the pool full, where each
// Acquire evicts and closes the least recently used idle handle.
func (b *bench) cold(ctx context.Context) error {
	k := b.f.sample
	mem0, fd0 := readRSS(), fdCount()
	room, rawRoom, err := b.acquireEach(ctx, b.ids[:k])
	if err != nil {
		return err
	}
	// Fill the pool, untimed, with tenants of neither sample.
	if fill := b.f.pool - k; fill > 0 && 2*k+fill <= len(b.ids) {
		if _, _, err := b.acquireEach(ctx, b.ids[2*k:2*k+fill]); err != nil {
			return err
		}
	}
	full, rawFull, err := b.acquireEach(ctx, b.ids[k:2*k])
	if err != nil {
		return err
	}
	// Let the closer finish, then weigh the open handles.
	for i := 0; i < 50 && b.store.Stats().Closing > 0; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	runtime.GC()
	mem1, fd1, open := readRSS(), fdCount(), b.store.Stats().Open
	for _, s := range []struct {
		name      string
		cold, raw []time.Duration
	}{{"pool has room", room, rawRoom}, {"pool full: evicts", full, rawFull}} {
		p50, raw := pct(s.cold, 0.50), pct(s.raw, 0.50)
		ratio := float64(p50) / float64(raw)
		b.add(fmt.Sprintf("cold Acquire+query p50 / raw open+query (%s)", s.name),
			fmt.Sprintf("%s / %s = %.2fx", fmtDur(p50), fmtDur(raw), ratio), "<= 1.3x", ratio <= 1.3)
		b.info(fmt.Sprintf("cold Acquire+query p99 (%s)", s.name), fmtDur(pct(s.cold, 0.99)))
	}
	if open > 0 {
		b.info(fmt.Sprintf("RSS per open handle (%d open, idle, after one query)", open),
			fmtBytes((mem1.rss-mem0.rss)/int64(open))+fmt.Sprintf(" (RSS %s -> %s)", fmtBytes(mem0.rss), fmtBytes(mem1.rss)))
		b.info("descriptors per open handle", fmt.Sprintf("%.1f (%d -> %d)", float64(fd1-fd0)/float64(open), fd0, fd1))
	}
	b.info("cold sample size", fmt.Sprintf("%d + %d tenants, pool %d", k, k, b.f.pool))
	return nil
}

// acquireEach acquires each tenant once, runs GET /api/tenant's point
// query on its reader and releases it, timing the whole; and just before,
// times the raw open + the same query + close of the same file. The file
// is read (untimed) first, so both find it in the OS's cache.
func (b *bench) acquireEach(ctx context.Context, ids []string) (cold, raw []time.Duration, err error) {
	for _, id := range ids {
		path, _ := b.store.Path(id)
		if _, err := os.ReadFile(path); err != nil {
			return nil, nil, err
		}
		t0 := time.Now()
		if err := rawOpenQuery(ctx, path); err != nil {
			return nil, nil, err
		}
		raw = append(raw, time.Since(t0))
		t0 = time.Now()
		h, release, err := b.store.Acquire(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		var v, dirty int
		err = h.Reader().QueryRowContext(ctx, pointQuery).Scan(&v, &dirty)
		release()
		cold = append(cold, time.Since(t0))
		if err != nil {
			return nil, nil, fmt.Errorf("first query of %s: %w", id, err)
		}
	}
	return cold, raw, nil
}

// warm times Acquire + release of an open tenant. One call takes well
// under a microsecond, so batches are timed and divided; the median batch
// is reported.
func (b *bench) warm(ctx context.Context) error {
	const batches, perBatch = 15, 100_000
	id := b.ids[len(b.ids)-1] // opened below, before the timing
	_, release, err := b.store.Acquire(ctx, id)
	if err != nil {
		return err
	}
	release()
	per := make([]time.Duration, 0, batches)
	for range batches {
		t0 := time.Now()
		for range perBatch {
			_, release, err := b.store.Acquire(ctx, id)
			if err != nil {
				return err
			}
			release()
		}
		per = append(per, time.Since(t0)/perBatch)
	}
	p50 := pct(per, 0.50)
	b.add("warm Acquire+release p50", fmtDur(p50), "< 2 µs", p50 < 2*time.Microsecond)
	return nil
}

// row is one line of the result table; target and met are empty for
// figures that only inform.
type row struct {
	metric, result, target, verdict string
}

func (b *bench) add(metric, result, target string, met bool) {
	v := "met"
	if !met {
		v = "MISSED"
	}
	b.rows = append(b.rows, row{metric, result, target, v})
}

func (b *bench) info(metric, result string) {
	b.rows = append(b.rows, row{metric, result, "", ""})
}

// progress reports on stderr, so stdout holds only the header and table.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// printTable writes the rows as a Markdown table padded to line up.
func printTable(w io.Writer, rows []row) {
	all := append([]row{{"metric", "result", "target", "verdict"}}, rows...)
	width := [4]int{}
	for _, r := range all {
		for i, c := range r.cells() {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(cells [4]string) {
		var sb strings.Builder
		for i, c := range cells {
			sb.WriteString("| " + c + strings.Repeat(" ", width[i]-len([]rune(c))) + " ")
		}
		fmt.Fprintln(w, sb.String()+"|")
	}
	line(all[0].cells())
	var sep [4]string
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	line(sep)
	for _, r := range rows {
		line(r.cells())
	}
}

func (r row) cells() [4]string { return [4]string{r.metric, r.result, r.target, r.verdict} }

// printHeader describes the machine and the run.
func printHeader(w io.Writer, f *flags, dir string) {
	fmt.Fprintf(w, "condo tenancy benchmark, %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "command:  go run ./scripts/bench %s\n", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(w, "machine:  %d CPUs (nproc), %s, %s RAM, kernel %s\n", nproc(), machine.CPUModel(), memTotal(), kernel())
	fmt.Fprintf(w, "go:       %s %s/%s, GOMAXPROCS=%d\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "data:     %s (%s)\n", dir, fsType(dir))
	loadDesc := fmt.Sprintf("wrk -t%d -c%d -d%s", f.threads, f.conns, f.duration)
	if f.load == "go" {
		loadDesc = fmt.Sprintf("built-in Go client, %d keep-alive connections, %s", f.conns, f.duration)
	}
	fmt.Fprintf(w, "settings: %d tenants, pool %d, load %s (+%s warm-up), tenant hosts from seeded sequences (seed %d)\n",
		f.n, f.pool, loadDesc, f.warmup, f.seed)
}

// dirSize sums the sizes of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

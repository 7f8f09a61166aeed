package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the raw floor: modernc's own driver, no Condo settings

	"github.com/condohq/condo/internal/zipf"
)

// pointQuery is the query GET /api/tenant runs on a tenant's database;
// the raw floor runs the same one.
const pointQuery = "SELECT version, dirty FROM schema_migrations LIMIT 1"

// rawOpenQuery opens path read-only with modernc's driver and nothing
// else (no pragmas, no pool), runs pointQuery and closes it: the least a
// cold request can cost. With no busy timeout, an open that meets
// Condo's handle of the same file closing (SQLITE_BUSY_RECOVERY) retries.
func rawOpenQuery(ctx context.Context, path string) (err error) {
	for range 100 {
		if err = rawOnce(ctx, path); err == nil || !strings.Contains(err.Error(), "database is locked") {
			return err
		}
	}
	return err
}

func rawOnce(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var v, dirty int
	return db.QueryRowContext(ctx, pointQuery).Scan(&v, &dirty)
}

// rawLoop runs rawOpenQuery on runtime.NumCPU() goroutines over the
// tenants' files, drawn uniformly with a fixed seed, for d, and returns
// opens per second: the floor for Condo's opens per second under churn.
func (b *bench) rawLoop(ctx context.Context, d time.Duration) (float64, error) {
	paths := make([]string, len(b.ids))
	for i, id := range b.ids {
		paths[i], _ = b.store.Path(id)
	}
	workers := runtime.NumCPU()
	counts := make([]int, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(b.f.seed, uint64(w)))
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if err := rawOpenQuery(ctx, paths[r.IntN(len(paths))]); err != nil {
					errs[w] = err
					return
				}
				counts[w]++
			}
		}()
	}
	wg.Wait()
	n := 0
	for w := range workers {
		if errs[w] != nil {
			return 0, errs[w]
		}
		n += counts[w]
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// schema compares opening and parsing a tenant file with a file of one
// table, both with the same point query, interleaved so that load on the
// machine falls on both alike. It runs before any tenant is opened.
func (b *bench) schema(ctx context.Context) error {
	const files, rounds = 100, 400
	dir := filepath.Join(b.dir, "one-table")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	one := make([]string, files)
	for i := range one {
		one[i] = filepath.Join(dir, fmt.Sprintf("%d.db", i))
		db, err := sql.Open("sqlite", "file:"+one[i])
		if err != nil {
			return err
		}
		_, err = db.ExecContext(ctx, `PRAGMA journal_mode = WAL;
			CREATE TABLE schema_migrations (version uint64 NOT NULL PRIMARY KEY, dirty bool NOT NULL);
			INSERT INTO schema_migrations VALUES (1, 0)`)
		db.Close()
		if err != nil {
			return err
		}
	}
	tenant := make([]string, files)
	for i := range tenant {
		tenant[i], _ = b.store.Path(b.ids[len(b.ids)-1-i]) // opened by no other phase before load
	}
	var tt, ot []time.Duration
	for i := range rounds {
		for j, p := range []string{tenant[i%files], one[i%files]} {
			if i%2 == 1 {
				p = []string{one[i%files], tenant[i%files]}[j]
			}
			t0 := time.Now()
			if err := rawOpenQuery(ctx, p); err != nil {
				return err
			}
			if p == tenant[i%files] {
				tt = append(tt, time.Since(t0))
			} else {
				ot = append(ot, time.Since(t0))
			}
		}
	}
	tp, op := pct(tt, 0.5), pct(ot, 0.5)
	ratio := float64(tp) / float64(op)
	b.info("raw open+point query+close p50: one-table file", fmtDur(op))
	b.info("raw open+point query+close p50: tenant schema", fmtDur(tp))
	b.add("tenant schema / one-table file (open+parse)", fmt.Sprintf("%.2fx", ratio), "<= 1.6x", ratio <= 1.6)
	return nil
}

// sequence returns count hosts drawn from hosts by a Zipf distribution of
// exponent s (0: uniform) with the run's seed: rank k is hosts[k], and the
// same flags give the same sequence on every run.
func (b *bench) sequence(hosts []string, s float64, count int) []string {
	seq := make([]string, count)
	for i, k := range zipf.Sequence(len(hosts), s, b.f.seed, count) {
		seq[i] = hosts[k]
	}
	return seq
}

// fdCount is the number of descriptors the process has open.
func fdCount() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMove_PauseBench moves a tenant back and forth between two local
// nodes under a steady writer, losing no acknowledged write, and reports
// the write pause of each move. By default a small tenant moves twice, as
// part of the suite; CONDO_MOVE_BENCH_MB and CONDO_MOVE_BENCH_MOVES make
// it the measurement of docs/PERFORMANCE.md (scripts/movebench.sh: 100 MB,
// 10 moves).
func TestMove_PauseBench(t *testing.T) {
	mb, _ := strconv.Atoi(os.Getenv("CONDO_MOVE_BENCH_MB"))
	if mb <= 0 {
		mb = 2
	}
	moves, _ := strconv.Atoi(os.Getenv("CONDO_MOVE_BENCH_MOVES"))
	if moves <= 0 {
		moves = 2
	}
	e := startMoveEnv(t, nil, nil)
	// Rows of 1 KiB (hex of 512 random bytes), 10,000 a statement.
	for i := 0; i < mb*1024; i += 10000 {
		if _, err := e.sql(e.a, fmt.Sprintf("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) INSERT INTO w (v) SELECT hex(randomblob(512)) FROM n", min(10000, mb*1024-i))); err != nil {
			t.Fatal(err)
		}
	}
	fi, _ := os.Stat(e.dataA + "/tenants/mover/tenant.db")
	t.Logf("tenant database: %d MB", fi.Size()>>20)

	var acked, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // a steady writer through whichever node the test talks to: ams forwards once the home is iad
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if _, err := e.sql(e.a, fmt.Sprintf("INSERT INTO w (v) VALUES ('bench-%d')", i)); err == nil {
				acked.Add(1)
			} else {
				failed.Add(1)
			}
		}
	})
	var pauses []time.Duration
	var took []time.Duration
	for i := range moves {
		to := "iad"
		if i%2 == 1 {
			to = "ams"
		}
		t0 := time.Now()
		code, out, errOut := run(t, "", "tenants", "move", "mover", "--region", to, "--data", e.dataA)
		if code != 0 {
			t.Fatalf("move %d: %s %s", i, out, errOut)
		}
		m := pauseRe.FindStringSubmatch(out)
		d, err := time.ParseDuration(m[1])
		if err != nil {
			t.Fatal(err)
		}
		pauses, took = append(pauses, d), append(took, time.Since(t0))
	}
	close(stop)
	wg.Wait()
	for _, s := range []*server{e.a, e.b} {
		for _, l := range strings.Split(s.logs.String(), "\n") {
			if strings.Contains(l, "tenant move flipped") {
				t.Log(l[strings.Index(l, "write_pause"):])
			}
		}
	}
	sorted := slices.Clone(pauses)
	slices.Sort(sorted)
	t.Logf("%d moves of %d MB: write pause p50 %s, p99 (max of %d) %s; whole move p50 %s; writer: %d acknowledged, %d refused",
		moves, fi.Size()>>20, sorted[len(sorted)/2], moves, sorted[len(sorted)-1], took[len(took)/2], acked.Load(), failed.Load())
	want := int(acked.Load())
	got, err := e.sql(e.a, "SELECT count(*) FROM w WHERE v LIKE 'bench-%'")
	if err != nil || got != strconv.Itoa(want) {
		t.Fatalf("acknowledged writes: %s of %d (%v)", got, want, err)
	}
}

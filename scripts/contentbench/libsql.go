package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/condohq/condo/scripts/machine"
	"github.com/condohq/condo/sqlitedb"
)

// The libSQL endpoint's other two targets (docs/PERFORMANCE.md): a batch
// of 100 INSERTs in one transaction on one tenant, as @libsql/client's
// batch("write") sends it, and what idle streams cost in memory. Both go
// over real HTTP to h, with sqlReqs' hosts and tokens.

// runBatches sends batches of 100 INSERTs to the first tenant for d, one
// after the other, and returns the rows written per second.
func runBatches(ctx context.Context, h http.Handler, sqlReq string, d time.Duration) (float64, error) {
	srv, stop, err := listen(h)
	if err != nil {
		return 0, err
	}
	defer stop()
	host, auth := splitSQLReq(sqlReq)
	create := `{"requests":[{"type":"execute","stmt":{"sql":"CREATE TABLE IF NOT EXISTS bench_rows (id INTEGER PRIMARY KEY, n INTEGER, v TEXT)"}},{"type":"close"}]}`
	if _, err := pipeline(ctx, srv, host, auth, create); err != nil {
		return 0, err
	}
	steps := []string{`{"stmt":{"sql":"BEGIN IMMEDIATE"}}`}
	for i := range 100 {
		steps = append(steps, fmt.Sprintf(`{"condition":{"type":"ok","step":%d},"stmt":{"sql":"INSERT INTO bench_rows (n, v) VALUES (?, ?)","args":[{"type":"integer","value":"%d"},{"type":"text","value":"row %d of a batch"}]}}`, i, i, i))
	}
	steps = append(steps, `{"condition":{"type":"ok","step":100},"stmt":{"sql":"COMMIT"}}`,
		`{"condition":{"type":"not","cond":{"type":"ok","step":101}},"stmt":{"sql":"ROLLBACK"}}`)
	batch := `{"requests":[{"type":"batch","batch":{"steps":[` + strings.Join(steps, ",") + `]}},{"type":"close"}]}`
	rows, start := 0, time.Now()
	for time.Since(start) < d {
		res, err := pipeline(ctx, srv, host, auth, batch)
		if err != nil {
			return 0, err
		}
		if strings.Contains(res, `"message"`) { // a step failed
			return 0, fmt.Errorf("batch failed: %.300s", res)
		}
		rows += 100
	}
	return float64(rows) / time.Since(start).Seconds(), nil
}

// idleStreams opens a stream for each of sqlReqs (a SELECT without
// close, so the stream stays), measures how much the process's resident
// memory grew, then closes them.
func idleStreams(ctx context.Context, h http.Handler, sqlReqs []string) (n int, rss int64, err error) {
	srv, stop, err := listen(h)
	if err != nil {
		return 0, 0, err
	}
	defer stop()
	held := func() int64 {
		debug.FreeOSMemory() // what the loads before freed does not count
		return machine.ProcKB("/proc/self/status", "VmRSS")
	}
	before := held()
	type open struct{ host, auth, baton string }
	var streams []open
	for _, r := range sqlReqs {
		host, auth := splitSQLReq(r)
		res, err := pipeline(ctx, srv, host, auth, `{"requests":[{"type":"execute","stmt":{"sql":"SELECT count(*) FROM content"}}]}`)
		if err != nil {
			return 0, 0, err
		}
		var p struct{ Baton string }
		if err := json.Unmarshal([]byte(res), &p); err != nil || p.Baton == "" {
			return 0, 0, fmt.Errorf("no baton in %.200s", res)
		}
		streams = append(streams, open{host, auth, p.Baton})
	}
	// The connections idle streams handed back close after
	// sqlitedb.StreamIdleTime in their pools: measure after that.
	time.Sleep(2*sqlitedb.StreamIdleTime + time.Second)
	rss = held() - before
	for _, s := range streams {
		if _, err := pipeline(ctx, srv, s.host, s.auth, `{"baton":"`+s.baton+`","requests":[{"type":"close"}]}`); err != nil {
			return 0, 0, err
		}
	}
	return len(streams), rss, nil
}

// splitSQLReq reads a "host\tpath\tauthorization\tbody" line.
func splitSQLReq(r string) (host, auth string) {
	f := strings.SplitN(r, "\t", 4)
	return f[0], f[2]
}

// pipeline posts body to /v2/pipeline on host and returns the answer.
func pipeline(ctx context.Context, srv, host, auth, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv+"/v2/pipeline", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Host = host
	req.Header.Set("Authorization", auth)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %d %.300s", host, res.StatusCode, b)
	}
	return string(b), nil
}

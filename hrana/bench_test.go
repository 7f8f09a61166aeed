package hrana_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/condohq/condo/hrana"
)

// BenchmarkConn_ExecutePoint is the endpoint's hot path below HTTP: a
// point SELECT by primary key, decoded as a client sends it, its response
// encoded.
func BenchmarkConn_ExecutePoint(b *testing.B) {
	db := mustDB(b)
	if _, err := db.Write.Exec("INSERT INTO t (s, at) VALUES ('a', '2026-12-01'), ('b', '2026-12-02')"); err != nil {
		b.Fatal(err)
	}
	c := mustConn(b, db)
	body := []byte(`{"type":"execute","stmt":{"sql":"SELECT id, i, r, s, b, at, x FROM t WHERE id = ?","args":[{"type":"integer","value":"1"}],"want_rows":true}}`)
	serveLoop(b, c, body)
}

// BenchmarkConn_BatchInserts is @libsql/client's batch of 100 INSERTs in
// one transaction; rows/s is what the target counts.
func BenchmarkConn_BatchInserts(b *testing.B) {
	db := mustDB(b)
	c := mustConn(b, db)
	stmts := make([]string, 100)
	for i := range stmts {
		stmts[i] = "INSERT INTO t (i, x) VALUES (1, 'some text')"
	}
	body := []byte(tsBatch("BEGIN IMMEDIATE", stmts...))
	serveLoop(b, c, body)
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "rows/s")
}

// serveLoop runs the request body on c, decoded and its response encoded
// as the HTTP layer does, b.N times.
func serveLoop(b *testing.B, c *hrana.Conn, body []byte) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var req hrana.StreamRequest
		if err := json.Unmarshal(body, &req); err != nil {
			b.Fatal(err)
		}
		resp, e, perr := c.Do(ctx, 2, &req)
		if e != nil || perr != nil {
			b.Fatal(e, perr)
		}
		if _, err := json.Marshal(resp); err != nil {
			b.Fatal(err)
		}
	}
}

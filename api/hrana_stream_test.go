package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/hrana"
)

// run posts a pipeline on tenant's host and fails unless it answered 200;
// it returns the results and the next baton (nil once the stream closed).
func (e *sqlEnv) run(t *testing.T, tenant, token string, baton any, reqs ...map[string]any) ([]map[string]any, any) {
	t.Helper()
	a := e.post(t, tenant, "/v2/pipeline", token, pipe(baton, reqs...))
	if a.status != http.StatusOK {
		t.Fatalf("pipeline: %d %s", a.status, a.text)
	}
	if a.body["base_url"] != nil {
		t.Errorf("base_url %v, want null", a.body["base_url"])
	}
	raw, _ := a.body["results"].([]any)
	if len(raw) != len(reqs) {
		t.Fatalf("%d results for %d requests: %s", len(raw), len(reqs), a.text)
	}
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		out[i] = r.(map[string]any)
	}
	return out, a.body["baton"]
}

// ok returns the statement result of an execute result, failing on an
// error result.
func ok(t *testing.T, res map[string]any) map[string]any {
	t.Helper()
	if res["type"] != "ok" {
		t.Fatalf("result %v, want ok", res)
	}
	r, _ := res["response"].(map[string]any)["result"].(map[string]any)
	return r
}

// failed fails unless res is an error result, and returns its code.
func failed(t *testing.T, res map[string]any) string {
	t.Helper()
	if res["type"] != "error" {
		t.Fatalf("result %v, want an error", res)
	}
	code, _ := res["error"].(map[string]any)["code"].(string)
	return code
}

// cell is the value of row i, column j of a statement result.
func cell(t *testing.T, r map[string]any, i, j int) any {
	t.Helper()
	rows, _ := r["rows"].([]any)
	if i >= len(rows) {
		t.Fatalf("no row %d in %v", i, r)
	}
	return rows[i].([]any)[j].(map[string]any)["value"]
}

// noLeaks fails unless no stream is open and no handle is held or pinned.
func (e *sqlEnv) noLeaks(t *testing.T) {
	t.Helper()
	if n := e.Streams.Streams(); n != 0 {
		t.Errorf("%d streams still open", n)
	}
	for _, id := range []string{"tenant-a", "tenant-b"} {
		if n := e.Streams.TenantStreams(id); n != 0 {
			t.Errorf("%d streams of %s still open", n, id)
		}
		if refs, pins := e.holds(t, id); refs != 0 || pins != 0 {
			t.Errorf("handle of %s: %d holds, %d pins", id, refs, pins)
		}
	}
	if st := e.Store.Stats(); st.Pinned != 0 {
		t.Errorf("pool: %+v", st)
	}
}

// The way @libsql/client's execute() and libsql-client-go's Exec talk:
// one pipeline of execute and close, with and without a Content-Type, on
// v2 and v3; one result per request, a failing one not stopping the next.
func TestHrana_ExecuteClose(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{})
	tok := e.write["tenant-a"]
	res, baton := e.run(t, "tenant-a", tok, nil, execute("CREATE TABLE t(a INTEGER, b TEXT)"),
		execute("INSERT INTO t VALUES (1, 'x')"), closeReq)
	if baton != nil {
		t.Errorf("baton %v after close, want null", baton)
	}
	if r := ok(t, res[1]); r["affected_row_count"] != 1.0 || r["last_insert_rowid"] != "1" {
		t.Errorf("insert: %v", r)
	}
	if res[2]["response"].(map[string]any)["type"] != "close" {
		t.Errorf("close: %v", res[2])
	}
	for _, path := range []string{"/v2/pipeline", "/v3/pipeline"} {
		a := e.post(t, "tenant-a", path, tok, pipe(nil, execute("SELECT a, b FROM t"), execute("SELECT * FROM missing"), execute("SELECT 2"), closeReq),
			"Content-Type", "application/json")
		if a.status != 200 {
			t.Fatalf("%s: %d %s", path, a.status, a.text)
		}
		results := a.body["results"].([]any)
		r := ok(t, results[0].(map[string]any))
		if cell(t, r, 0, 0) != "1" || cell(t, r, 0, 1) != "x" {
			t.Errorf("%s: rows %v", path, r["rows"])
		}
		if code := failed(t, results[1].(map[string]any)); !strings.HasPrefix(code, "SQLITE_") {
			t.Errorf("%s: SQL error code %q", path, code)
		}
		if cell(t, ok(t, results[2].(map[string]any)), 0, 0) != "2" {
			t.Errorf("%s: the request after a failure did not run", path)
		}
	}
	e.noLeaks(t)
}

// An interactive transaction spans HTTP requests on one stream: each
// answer carries a fresh baton, readers outside see nothing until COMMIT,
// and an old baton (a replay) ends the stream and rolls it back.
func TestHrana_Transaction(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{})
	tok := e.write["tenant-a"]
	e.run(t, "tenant-a", tok, nil, execute("CREATE TABLE t(a INTEGER)"), closeReq)

	t.Run("RolledBackByReplay", func(t *testing.T) {
		_, b1 := e.run(t, "tenant-a", tok, nil, execute("BEGIN"))
		_, b2 := e.run(t, "tenant-a", tok, b1, execute("INSERT INTO t VALUES (1)"))
		if b1 == nil || b2 == nil || b1 == b2 {
			t.Fatalf("batons %v, %v: want two different ones", b1, b2)
		}
		if n := e.count(t, "tenant-a", "SELECT count(*) FROM t"); n != 0 {
			t.Errorf("a reader outside the transaction sees %d rows", n)
		}
		res, b3 := e.run(t, "tenant-a", tok, b2, execute("SELECT count(*) FROM t"))
		if cell(t, ok(t, res[0]), 0, 0) != "1" {
			t.Errorf("the transaction does not see its own row")
		}
		wantError(t, e.post(t, "tenant-a", "/v2/pipeline", tok, pipe(b2, execute("COMMIT"))), 400, hrana.CodeBatonReused)
		wantError(t, e.post(t, "tenant-a", "/v2/pipeline", tok, pipe(b3, execute("COMMIT"))), 400, hrana.CodeBatonReused)
		if n := e.count(t, "tenant-a", "SELECT count(*) FROM t"); n != 0 {
			t.Errorf("%d rows after the replay ended the stream; want it rolled back", n)
		}
	})
	t.Run("Committed", func(t *testing.T) {
		_, b := e.run(t, "tenant-a", tok, nil, execute("BEGIN"), execute("INSERT INTO t VALUES (2)"))
		_, b = e.run(t, "tenant-a", tok, b, execute("COMMIT"))
		if n := e.count(t, "tenant-a", "SELECT count(*) FROM t WHERE a = 2"); n != 1 {
			t.Errorf("%d rows after COMMIT", n)
		}
		if _, b = e.run(t, "tenant-a", tok, b, closeReq); b != nil {
			t.Errorf("baton %v after close", b)
		}
	})
	t.Run("ClosedWithoutCommit", func(t *testing.T) {
		_, b := e.run(t, "tenant-a", tok, nil, execute("BEGIN"), execute("INSERT INTO t VALUES (3)"))
		e.run(t, "tenant-a", tok, b, closeReq)
		if n := e.count(t, "tenant-a", "SELECT count(*) FROM t WHERE a = 3"); n != 0 {
			t.Errorf("close kept an uncommitted row")
		}
	})
	t.Run("ProtocolErrorEndsStream", func(t *testing.T) {
		_, b := e.run(t, "tenant-a", tok, nil, execute("BEGIN"), execute("INSERT INTO t VALUES (4)"))
		wantError(t, e.post(t, "tenant-a", "/v2/pipeline", tok, pipe(b, map[string]any{"type": "nonsense"})), 400, "PROTO_ERROR")
		if n := e.count(t, "tenant-a", "SELECT count(*) FROM t WHERE a = 4"); n != 0 {
			t.Errorf("the refused pipeline's stream kept its transaction")
		}
	})
	e.noLeaks(t)
}

// A baton of tenant A presented on B's host (with B's own token) is
// refused and recorded, leaves A's stream alone, and nothing of A's,
// stored SQL included, is reachable from B.
func TestHrana_Isolation(t *testing.T) {
	e := newSQL(t, api.Config{SecurityEventEvery: time.Hour}, hrana.Config{})
	a, b := e.write["tenant-a"], e.write["tenant-b"]
	e.run(t, "tenant-a", a, nil, execute("CREATE TABLE secrets(s TEXT)"), execute("INSERT INTO secrets VALUES ('alpha-secret')"), closeReq)
	_, baton := e.run(t, "tenant-a", a, nil, map[string]any{"type": "store_sql", "sql_id": 1, "sql": "SELECT s FROM secrets"})

	for _, path := range []string{"/v2/pipeline", "/v3/cursor"} {
		body := pipe(baton, execute("SELECT s FROM secrets"))
		if path == "/v3/cursor" {
			body = `{"baton": "` + baton.(string) + `", "batch": {"steps": [{"stmt": {"sql": "SELECT s FROM secrets"}}]}}`
		}
		ans := e.post(t, "tenant-b", path, b, body)
		wantError(t, ans, 400, hrana.CodeBatonInvalid)
		if strings.Contains(ans.text, "alpha") || strings.Contains(ans.text, "tenant-a") {
			t.Errorf("B's answer tells of A: %s", ans.text)
		}
	}
	ev := e.PlatformEvents(t, "cross_tenant_baton")
	if len(ev) != 1 || ev[0].TenantID != "tenant-b" {
		t.Fatalf("platform events %+v, want one on tenant-b", ev)
	}
	var d map[string]any
	if json.Unmarshal(ev[0].Detail, &d); d["baton_tenant"] != "tenant-a" {
		t.Errorf("platform detail %s", ev[0].Detail)
	}
	if local := e.Events(t, "tenant-b", "cross_tenant_baton"); len(local) != 1 || strings.Contains(string(local[0].Detail), "tenant-a") {
		t.Errorf("tenant-b's own events %+v: want one, not naming tenant-a", local)
	}

	// A's stream is untouched, its stored SQL still there.
	res, baton := e.run(t, "tenant-a", a, baton, map[string]any{"type": "execute", "stmt": map[string]any{"sql_id": 1}})
	if cell(t, ok(t, res[0]), 0, 0) != "alpha-secret" {
		t.Errorf("A's stream after B's attempt: %v", res)
	}
	// B's streams know nothing of A's stored SQL or tables.
	res, _ = e.run(t, "tenant-b", b, nil, map[string]any{"type": "execute", "stmt": map[string]any{"sql_id": 1}},
		execute("SELECT s FROM secrets"), closeReq)
	failed(t, res[0])
	failed(t, res[1])
	if body, _ := json.Marshal(res); strings.Contains(string(body), "alpha-secret") {
		t.Errorf("B's answer carries A's data: %s", body)
	}
	e.run(t, "tenant-a", a, baton, closeReq)
	e.noLeaks(t)
}

// An idle stream expires: its transaction is rolled back, its baton
// answers STREAM_EXPIRED (libsql-client-go retries on it), and nothing
// stays open. A request in flight is never expired under it.
func TestHrana_Expiry(t *testing.T) {
	clock := &testClock{t: time.Now()}
	e := newSQL(t, api.Config{}, hrana.Config{Now: clock.Now, Tick: time.Hour}) // the test reaps
	tok := e.write["tenant-a"]
	e.run(t, "tenant-a", tok, nil, execute("CREATE TABLE t(a INTEGER)"), closeReq)

	t.Run("Idle", func(t *testing.T) {
		_, b := e.run(t, "tenant-a", tok, nil, execute("BEGIN"), execute("INSERT INTO t VALUES (1)"))
		clock.Advance(hrana.DefaultIdleTimeout - time.Second)
		e.Streams.Reap()
		_, b = e.run(t, "tenant-a", tok, b, execute("SELECT 1")) // resets the idle clock
		clock.Advance(hrana.DefaultIdleTimeout - time.Second)
		e.Streams.Reap()
		if e.Streams.Streams() != 1 {
			t.Fatal("expired before its idle timeout")
		}
		clock.Advance(time.Second)
		e.Streams.Reap()
		wantError(t, e.post(t, "tenant-a", "/v2/pipeline", tok, pipe(b, execute("COMMIT"))), 400, hrana.CodeStreamExpired)
		if n := e.count(t, "tenant-a", "SELECT count(*) FROM t"); n != 0 {
			t.Errorf("another reader sees %d rows of the expired transaction", n)
		}
		e.noLeaks(t)
	})
	t.Run("NeverInFlight", func(t *testing.T) {
		var ans answer
		done := make(chan struct{})
		go func() {
			defer close(done)
			ans = e.post(t, "tenant-a", "/v2/pipeline", tok, pipe(nil, execute(
				"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) SELECT count(*) FROM c")))
		}()
		for running := true; running; {
			select {
			case <-done:
				running = false
			case <-time.After(5 * time.Millisecond):
				clock.Advance(time.Minute) // long past the idle timeout, while the request runs
				e.Streams.Reap()
			}
		}
		if ans.status != 200 || ans.body["baton"] == nil {
			t.Fatalf("the request lost its stream: %d %s", ans.status, ans.text)
		}
		if r := ok(t, ans.body["results"].([]any)[0].(map[string]any)); cell(t, r, 0, 0) != "200000" {
			t.Errorf("result %v", r)
		}
		// The loop may have moved the clock past the idle timeout between
		// the answer and its arrival here: then the stream expired since,
		// rightly.
		if end := e.post(t, "tenant-a", "/v2/pipeline", tok, pipe(ans.body["baton"], closeReq)); end.status != 200 {
			wantError(t, end, 400, hrana.CodeStreamExpired)
		}
		e.noLeaks(t)
	})
}

// A stream holding the write lock loses it to a CMS write that waits:
// the CMS write succeeds, the stream is rolled back and told so.
func TestHrana_WriteLockCap(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{WriteLockCap: 50 * time.Millisecond, Tick: 10 * time.Millisecond})
	tok, admin := e.write["tenant-a"], e.admin["tenant-a"]
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections", admin, `{"name": "posts"}`), 201, "")
	e.run(t, "tenant-a", tok, nil, execute("CREATE TABLE t(a INTEGER)"), closeReq)
	_, b := e.run(t, "tenant-a", tok, nil, execute("BEGIN IMMEDIATE"), execute("INSERT INTO t VALUES (1)"))

	res := e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", admin, `{"title": "written while a stream held the lock"}`)
	apitest.WantStatus(t, res, 201, "")
	wantError(t, e.post(t, "tenant-a", "/v2/pipeline", tok, pipe(b, execute("COMMIT"))), 400, hrana.CodeTransactionTimeout)
	if n := e.count(t, "tenant-a", "SELECT count(*) FROM t"); n != 0 {
		t.Errorf("the timed-out transaction's row is there")
	}
	e.noLeaks(t)
}

// Open streams are bounded per tenant and in all: past a bound, 503 with
// Retry-After; closing them brings every count back to zero.
func TestHrana_Bounds(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{MaxTenantStreams: 2, MaxStreams: 3})
	a, b := e.write["tenant-a"], e.write["tenant-b"]
	var batons []struct {
		tenant, tok string
		baton       any
	}
	open := func(tenant, tok string) {
		_, baton := e.run(t, tenant, tok, nil, execute("SELECT 1"))
		batons = append(batons, struct {
			tenant, tok string
			baton       any
		}{tenant, tok, baton})
	}
	open("tenant-a", a)
	open("tenant-a", a)
	ans := e.post(t, "tenant-a", "/v2/pipeline", a, pipe(nil, execute("SELECT 1")))
	wantError(t, ans, 503, "TOO_MANY_STREAMS")
	if ans.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	open("tenant-b", b)
	wantError(t, e.post(t, "tenant-b", "/v2/pipeline", b, pipe(nil, execute("SELECT 1"))), 503, "TOO_MANY_STREAMS")
	if e.Streams.Streams() != 3 || e.Streams.TenantStreams("tenant-a") != 2 {
		t.Errorf("counts %d, %d", e.Streams.Streams(), e.Streams.TenantStreams("tenant-a"))
	}
	if _, pins := e.holds(t, "tenant-a"); pins != 2 {
		t.Errorf("tenant-a pinned %d times, want once a stream", pins)
	}
	for _, s := range batons {
		e.run(t, s.tenant, s.tok, s.baton, closeReq)
	}
	e.noLeaks(t)
}

// A read-only credential reads and is refused writes, and cannot take
// over a stream opened with sql.write.
func TestHrana_ReadOnly(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{})
	w, r := e.write["tenant-a"], e.read["tenant-a"]
	e.run(t, "tenant-a", w, nil, execute("CREATE TABLE t(a INTEGER)"), execute("INSERT INTO t VALUES (1)"), closeReq)
	res, _ := e.run(t, "tenant-a", r, nil, execute("SELECT count(*) FROM t"), execute("INSERT INTO t VALUES (2)"), closeReq)
	if cell(t, ok(t, res[0]), 0, 0) != "1" {
		t.Errorf("read: %v", res[0])
	}
	failed(t, res[1])
	if n := e.count(t, "tenant-a", "SELECT count(*) FROM t"); n != 1 {
		t.Errorf("a read-only token wrote: %d rows", n)
	}
	_, b := e.run(t, "tenant-a", w, nil, execute("SELECT 1"))
	wantError(t, e.post(t, "tenant-a", "/v2/pipeline", r, pipe(b, execute("INSERT INTO t VALUES (3)"))), 403, "PERMISSION_DENIED")
	if n := e.count(t, "tenant-a", "SELECT count(*) FROM t"); n != 1 {
		t.Errorf("a read-only token wrote through a read-write stream")
	}
	e.noLeaks(t)
}

// POST /v3/cursor answers text: the baton line, then one entry a line.
func TestHrana_Cursor(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{})
	tok := e.write["tenant-a"]
	e.run(t, "tenant-a", tok, nil, execute("CREATE TABLE t(a INTEGER)"), execute("INSERT INTO t VALUES (1), (2)"), closeReq)
	a := e.post(t, "tenant-a", "/v3/cursor", tok, `{"baton": null, "batch": {"steps": [
		{"stmt": {"sql": "SELECT a FROM t ORDER BY a"}}, {"stmt": {"sql": "SELECT * FROM missing"}}]}}`)
	if a.status != 200 || a.header.Get("Content-Type") != "text/plain" {
		t.Fatalf("%d %q %s", a.status, a.header.Get("Content-Type"), a.text)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(a.text), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	if len(lines) < 2 || lines[0]["baton"] == nil || lines[0]["base_url"] != nil {
		t.Fatalf("head %v", lines)
	}
	var types []string
	for _, l := range lines[1:] {
		types = append(types, l["type"].(string))
	}
	if got, want := strings.Join(types, ","), "step_begin,row,row,step_end,step_error"; got != want {
		t.Errorf("entries %s, want %s", got, want)
	}
	e.run(t, "tenant-a", tok, lines[0]["baton"], closeReq)
	e.noLeaks(t)
}

// Writes through the endpoint drop the tenant's cached CMS reads at once
// (COMMIT of a transaction that wrote, too); reads and other tenants'
// writes do not.
func TestHrana_InvalidatesCMSCache(t *testing.T) {
	cache := cms.NewCache(api.DefaultContentCache, time.Minute, nil)
	e := newSQL(t, api.Config{Content: cache}, hrana.Config{})
	tok := e.write["tenant-a"]
	admin := e.admin["tenant-a"]
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections", admin, `{"name": "posts", "public": true}`), 201, "")
	item := e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", admin, `{"title": "before", "status": "published"}`)
	apitest.WantStatus(t, item, 201, "")
	id := item.Data["id"].(string)
	read := func() string {
		t.Helper()
		res := e.Call(t, "tenant-a", "GET", "/api/content/"+id, "", "")
		apitest.WantStatus(t, res, 200, "")
		return res.Data["title"].(string)
	}
	read() // cached now

	gen := cache.Generation("tenant-a")
	e.run(t, "tenant-a", tok, nil, execute("SELECT count(*) FROM content"), closeReq)
	if cache.Generation("tenant-a") != gen {
		t.Error("a read dropped the cache")
	}
	e.run(t, "tenant-a", tok, nil, execute("UPDATE content SET title = 'after' WHERE id = '"+id+"'"), closeReq)
	if got := read(); got != "after" {
		t.Errorf("the CMS read %q after a write through the endpoint", got)
	}
	_, b := e.run(t, "tenant-a", tok, nil, execute("BEGIN"), execute("UPDATE content SET title = 'in a transaction' WHERE id = '"+id+"'"))
	if got := read(); got != "after" {
		t.Errorf("the CMS read an uncommitted title: %q", got)
	}
	e.run(t, "tenant-a", tok, b, execute("COMMIT"), closeReq)
	if got := read(); got != "in a transaction" {
		t.Errorf("the CMS read %q after COMMIT", got)
	}
	genB := cache.Generation("tenant-b")
	e.run(t, "tenant-a", tok, nil, execute("UPDATE content SET title = 'again' WHERE id = '"+id+"'"), closeReq)
	if cache.Generation("tenant-b") != genB {
		t.Error("A's write dropped B's cache")
	}
	e.noLeaks(t)
}

// A pipeline's answer is capped as a whole: results past the cap answer
// RESPONSE_TOO_LARGE, the stream goes on.
func TestHrana_ResponseCap(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{MaxPipelineBytes: 4000})
	tok := e.write["tenant-a"]
	big := execute("SELECT printf('%.3000c', 'x')")
	res, b := e.run(t, "tenant-a", tok, nil, big, big)
	ok(t, res[0])
	if code := failed(t, res[1]); code != hrana.CodeResponseTooLarge {
		t.Errorf("code %q, want %s", code, hrana.CodeResponseTooLarge)
	}
	e.run(t, "tenant-a", tok, b, execute("SELECT 1"), closeReq)
	e.noLeaks(t)
}

// Bad input of every kind gets a clear refusal, changes nothing and
// leaks no stream, connection or pin.
func TestHrana_BadInputNoLeaks(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{})
	w, r := e.write["tenant-a"], e.read["tenant-a"]
	e.run(t, "tenant-a", w, nil, execute("CREATE TABLE t(a INTEGER)"), closeReq)
	args := make([]map[string]any, 10_000)
	for i := range args {
		args[i] = map[string]any{"type": "integer", "value": "1"}
	}
	manyArgs := map[string]any{"type": "execute", "stmt": map[string]any{"sql": "INSERT INTO t VALUES (?)", "args": args}}
	res, _ := e.run(t, "tenant-a", w, nil, manyArgs, execute("SELECT password_hash FROM users"), closeReq)
	if code := failed(t, res[0]); code != hrana.CodeArgsInvalid {
		t.Errorf("10,000 arguments for one parameter: %q, want %s", code, hrana.CodeArgsInvalid)
	}
	if res[1]["type"] == "ok" { // password hashes are never readable: refused, or read as NULL
		if v := cell(t, ok(t, res[1]), 0, 0); v != nil {
			t.Errorf("a password hash read through the endpoint: %v", v)
		}
	}
	res, _ = e.run(t, "tenant-a", r, nil, execute("INSERT INTO t VALUES (1)"), closeReq)
	failed(t, res[0])
	wantError(t, e.post(t, "tenant-a", "/v2/pipeline", w, pipe(nil, execute("SELECT '"+strings.Repeat("x", 1<<20)+"'"))), 400, hrana.CodeSQLTooLong)
	if n := e.count(t, "tenant-a", "SELECT count(*) FROM t"); n != 0 {
		t.Errorf("bad input wrote %d rows", n)
	}
	e.noLeaks(t)
}

// A suspended tenant's endpoint answers as its other routes do (403
// tenant_suspended), in the protocol's shape; its open stream cannot be
// used, and expires as any idle stream does.
func TestHrana_SuspendedTenant(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{})
	tok := e.write["tenant-a"]
	_, b := e.run(t, "tenant-a", tok, nil, execute("SELECT 1"))
	if _, err := e.Catalog.SetStatus(context.Background(), "tenant-a", catalog.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	wantError(t, e.post(t, "tenant-a", "/v2/pipeline", tok, pipe(b, execute("SELECT 1"))), 403, "TENANT_SUSPENDED")
	wantError(t, e.post(t, "tenant-a", "/v2/pipeline", tok, pipe(nil, execute("SELECT 1"))), 403, "TENANT_SUSPENDED")
	if _, err := e.Catalog.SetStatus(context.Background(), "tenant-a", catalog.StatusActive); err != nil {
		t.Fatal(err)
	}
	e.run(t, "tenant-a", tok, b, closeReq)
	e.noLeaks(t)
}

// An idle stream in autocommit mode holds no SQLite connection (it goes
// back to the tenant's pool and the next request takes one), keeps its
// stored SQL, and holds one while a transaction is open or the client
// keeps connection state (a temporary table, foreign keys off).
func TestHrana_IdleStreamHoldsNoConnection(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{})
	tok := e.write["tenant-a"]
	inUse := func() int {
		h, release, ok := e.Store.AcquireIfOpen("tenant-a")
		if !ok {
			t.Fatal("tenant-a is not open")
		}
		defer release()
		db, _ := h.Local()
		return db.StreamConnsInUse()
	}
	e.run(t, "tenant-a", tok, nil, execute("CREATE TABLE t(a INTEGER)"), closeReq)
	_, b := e.run(t, "tenant-a", tok, nil, map[string]any{"type": "store_sql", "sql_id": 1, "sql": "SELECT count(*) FROM t"})
	if n := inUse(); n != 0 {
		t.Fatalf("an idle stream holds %d connections", n)
	}
	res, b := e.run(t, "tenant-a", tok, b, map[string]any{"type": "execute", "stmt": map[string]any{"sql_id": 1}}, execute("BEGIN"), execute("INSERT INTO t VALUES (1)"))
	if cell(t, ok(t, res[0]), 0, 0) != "0" {
		t.Fatalf("the stored SQL did not survive its stream's idle time: %v", res[0])
	}
	if n := inUse(); n != 1 {
		t.Fatalf("a stream in a transaction holds %d connections, want 1", n)
	}
	_, b = e.run(t, "tenant-a", tok, b, execute("COMMIT"), execute("CREATE TEMP TABLE scratch(x)"), execute("PRAGMA foreign_keys = OFF"))
	if n := inUse(); n != 1 {
		t.Fatalf("a stream with a temporary table holds %d connections, want 1", n)
	}
	res, b = e.run(t, "tenant-a", tok, b, execute("SELECT count(*) FROM scratch"), execute("PRAGMA foreign_keys"))
	if cell(t, ok(t, res[1]), 0, 0) != "0" {
		t.Errorf("foreign keys back on within the stream that turned them off")
	}
	e.run(t, "tenant-a", tok, b, closeReq)
	// The connection went back to the pool with foreign keys on and no
	// temporary table: the next stream gets a clean one.
	res, _ = e.run(t, "tenant-a", tok, nil, execute("PRAGMA foreign_keys"), execute("SELECT count(*) FROM temp.sqlite_schema"), closeReq)
	if cell(t, ok(t, res[0]), 0, 0) != "1" || cell(t, ok(t, res[1]), 0, 0) != "0" {
		t.Errorf("a pooled connection kept a stream's state: foreign_keys %v, temp objects %v", res[0], res[1])
	}
	e.noLeaks(t)
}

// A single long write statement that holds the write lock while a CMS
// write waits is interrupted and rolled back too, not only a transaction
// left open between requests.
func TestHrana_WriteLockCapInterruptsLongStatement(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{WriteLockCap: 50 * time.Millisecond, Tick: 10 * time.Millisecond})
	tok, admin := e.write["tenant-a"], e.admin["tenant-a"]
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections", admin, `{"name": "posts"}`), 201, "")
	e.run(t, "tenant-a", tok, nil, execute("CREATE TABLE t(a INTEGER)"), closeReq)
	done := make(chan answer, 1)
	go func() {
		// Runs until interrupted (or after a billion rows).
		done <- e.post(t, "tenant-a", "/v2/pipeline", tok, pipe(nil, execute("BEGIN IMMEDIATE"),
			execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1000000000) INSERT INTO t SELECT x FROM c")))
	}()
	time.Sleep(100 * time.Millisecond) // the statement has the lock
	res := e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", admin, `{"title": "written while a statement held the lock"}`)
	apitest.WantStatus(t, res, 201, "")
	select {
	case a := <-done:
		wantError(t, a, 400, hrana.CodeTransactionTimeout)
	case <-time.After(30 * time.Second):
		t.Fatal("the long statement was not interrupted")
	}
	if n := e.count(t, "tenant-a", "SELECT count(*) FROM t"); n != 0 {
		t.Errorf("%d rows of the interrupted statement are there", n)
	}
	e.noLeaks(t)
}

// A long read through the endpoint (a transaction left open after a
// SELECT) never makes a CMS write fail: readers do not block the writer.
func TestHrana_LongReadBesideCMSWrites(t *testing.T) {
	e := newSQL(t, api.Config{}, hrana.Config{WriteLockCap: 50 * time.Millisecond, Tick: 10 * time.Millisecond})
	tok, admin := e.read["tenant-a"], e.admin["tenant-a"]
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections", admin, `{"name": "posts"}`), 201, "")
	_, b := e.run(t, "tenant-a", tok, nil, execute("BEGIN"), execute("SELECT count(*) FROM content"))
	for i := range 5 {
		res := e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", admin, `{"title": "written during a read"}`)
		apitest.WantStatus(t, res, 201, "")
		time.Sleep(time.Duration(i) * 20 * time.Millisecond)
	}
	res, b := e.run(t, "tenant-a", tok, b, execute("SELECT count(*) FROM content"), execute("COMMIT"))
	if cell(t, ok(t, res[0]), 0, 0) != "0" {
		t.Errorf("the read transaction saw writes made after it began: %v", res[0])
	}
	e.run(t, "tenant-a", tok, b, closeReq)
	e.noLeaks(t)
}

package hrana_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/hrana"
)

func TestConn_Sequence(t *testing.T) {
	db := mustDB(t)
	c := mustConn(t, db)
	// Each statement is prepared once those before it ran: the INSERT
	// needs the table the CREATE makes; a trigger's BEGIN..END is SQLite's.
	script := `CREATE TABLE s (a INTEGER, b TEXT);
		CREATE TRIGGER s_ins AFTER INSERT ON s BEGIN UPDATE s SET b = 'trig' WHERE a = new.a; END;
		-- a comment between statements
		INSERT INTO s (a) VALUES (1);
		INSERT INTO s (a) VALUES (2); `
	if got := mustDo(t, c, 2, `{"type":"sequence","sql":`+jsonOf(t, script)+`}`); got["type"] != "sequence" {
		t.Fatalf("response %v", got)
	}
	res := result(t, mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"SELECT a, b FROM s ORDER BY a"}}`))
	want := `[[{"type":"integer","value":"1"},{"type":"text","value":"trig"}],[{"type":"integer","value":"2"},{"type":"text","value":"trig"}]]`
	if got := jsonOf(t, res["rows"]); got != canon(t, want) {
		t.Errorf("rows %s", got)
	}
	// The first error stops the script; what ran before it stays.
	_, e, perr := do(t, c, 2, `{"type":"sequence","sql":"INSERT INTO s (a) VALUES (3); INSERT INTO nowhere VALUES (1); INSERT INTO s (a) VALUES (4)"}`)
	wantCode(t, e, perr, "SQLITE_ERROR")
	res = result(t, mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"SELECT group_concat(a) FROM s"}}`))
	if got := path(res, "rows", 0, 0, "value"); got != "1,2,3" {
		t.Errorf("after the failed script: %v", got)
	}
	// Empty and comment-only scripts do nothing.
	mustDo(t, c, 2, `{"type":"sequence","sql":"  -- nothing\n"}`)
	if _, _, perr := do(t, c, 2, `{"type":"sequence"}`); perr == nil {
		t.Error("a sequence without sql passed")
	}
}

func TestConn_Describe(t *testing.T) {
	db := mustDB(t)
	c := mustConn(t, db)
	res := result(t, mustDo(t, c, 2, `{"type":"describe","sql":"SELECT id, at, 1 AS one FROM t WHERE s = :s AND i = ?"}`))
	want := `{"params":[{"name":":s"},{"name":null}],"cols":[{"name":"id","decltype":"INTEGER"},{"name":"at","decltype":"DATETIME"},{"name":"one","decltype":null}],"is_explain":false,"is_readonly":true}`
	if got := jsonOf(t, res); got != canon(t, want) {
		t.Errorf("describe\n got %s\nwant %s", got, canon(t, want))
	}
	res = result(t, mustDo(t, c, 2, `{"type":"describe","sql":"INSERT INTO t (s) VALUES (?)"}`))
	if res["is_readonly"] != false || res["is_explain"] != false {
		t.Errorf("INSERT described as %v", res)
	}
	res = result(t, mustDo(t, c, 2, `{"type":"describe","sql":"EXPLAIN SELECT 1"}`))
	if res["is_explain"] != true {
		t.Errorf("EXPLAIN described as %v", res)
	}
	_, e, perr := do(t, c, 2, `{"type":"describe","sql":"SELECT 1; SELECT 2"}`)
	wantCode(t, e, perr, hrana.CodeManyStatements)
	_, e, perr = do(t, c, 2, `{"type":"describe","sql":"SELECT nope FROM t"}`)
	wantCode(t, e, perr, "SQLITE_ERROR")
}

func TestConn_StoredSQL(t *testing.T) {
	db := mustDB(t)
	c := mustConn(t, db)
	mustDo(t, c, 2, `{"type":"store_sql","sql_id":1,"sql":"SELECT ? + 1"}`)
	res := result(t, mustDo(t, c, 2, `{"type":"execute","stmt":{"sql_id":1,"args":[{"type":"integer","value":"41"}]}}`))
	if got := path(res, "rows", 0, 0, "value"); got != "42" {
		t.Errorf("stored statement gave %v", got)
	}
	res = result(t, mustDo(t, c, 2, `{"type":"describe","sql_id":1}`))
	if got := jsonOf(t, res["params"]); got != `[{"name":null}]` {
		t.Errorf("describe of stored: %s", got)
	}
	_, e, perr := do(t, c, 2, `{"type":"store_sql","sql_id":1,"sql":"SELECT 2"}`)
	wantCode(t, e, perr, hrana.CodeSQLIDInUse)
	mustDo(t, c, 2, `{"type":"close_sql","sql_id":1}`)
	mustDo(t, c, 2, `{"type":"close_sql","sql_id":1}`) // unknown id: fine
	_, e, perr = do(t, c, 2, `{"type":"execute","stmt":{"sql_id":1}}`)
	wantCode(t, e, perr, hrana.CodeSQLNotFound)
	_, e, perr = do(t, c, 2, `{"type":"sequence","sql_id":1}`)
	wantCode(t, e, perr, hrana.CodeSQLNotFound)
	// In a batch, an unknown id fails its step only.
	res = result(t, mustDo(t, c, 2, `{"type":"batch","batch":{"steps":[{"stmt":{"sql_id":7}},{"stmt":{"sql":"SELECT 1"}}]}}`))
	if path(res, "step_errors", 0, "code") != hrana.CodeSQLNotFound || path(res, "step_results", 1) == nil {
		t.Errorf("batch %v", res)
	}

	long := "SELECT '" + strings.Repeat("x", hrana.MaxStoredSQLLen) + "'"
	_, e, perr = do(t, c, 2, `{"type":"store_sql","sql_id":2,"sql":`+jsonOf(t, long)+`}`)
	wantCode(t, e, perr, hrana.CodeSQLTooLong)
	// The limit counts characters: 4,999 multi-byte ones fit (the
	// TypeScript client stores texts under 5,000 UTF-16 units).
	mustDo(t, c, 2, `{"type":"store_sql","sql_id":2,"sql":`+jsonOf(t, "SELECT '"+strings.Repeat("é", 4990)+"'")+`}`)
	for id := 3; id <= hrana.MaxStoredSQL+1; id++ { // 2 to 51: the store is full
		mustDo(t, c, 2, `{"type":"store_sql","sql_id":`+jsonOf(t, id)+`,"sql":"SELECT 1"}`)
	}
	_, e, perr = do(t, c, 2, `{"type":"store_sql","sql_id":1000,"sql":"SELECT 1"}`)
	wantCode(t, e, perr, hrana.CodeSQLStoreFull)
	for _, bad := range []string{`{"type":"store_sql","sql":"SELECT 1"}`, `{"type":"store_sql","sql_id":5}`, `{"type":"close_sql"}`} {
		if _, _, perr := do(t, c, 2, bad); perr == nil {
			t.Errorf("%s: no protocol error", bad)
		}
	}
}

func TestConn_GetAutocommit(t *testing.T) {
	db := mustDB(t)
	c := mustConn(t, db)
	if _, _, perr := do(t, c, 2, `{"type":"get_autocommit"}`); perr == nil {
		t.Error("get_autocommit passed on version 2")
	}
	if got := mustDo(t, c, 3, `{"type":"get_autocommit"}`); got["is_autocommit"] != true {
		t.Errorf("idle: %v", got)
	}
	mustDo(t, c, 3, `{"type":"execute","stmt":{"sql":"BEGIN"}}`)
	if got := mustDo(t, c, 3, `{"type":"get_autocommit"}`); got["is_autocommit"] != false {
		t.Errorf("in a transaction: %v", got)
	}
}

// TestConn_InteractiveTransaction is a transaction across requests, as
// the clients' transaction() and database/sql's Tx run it.
func TestConn_InteractiveTransaction(t *testing.T) {
	db := mustDB(t)
	c := mustConn(t, db)
	ctx := context.Background()
	state := func() (bool, bool) {
		t.Helper()
		a, err := c.Autocommit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w, err := c.Writing(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return a, w
	}
	mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"BEGIN"}}`)
	if a, w := state(); a || w {
		t.Fatalf("after BEGIN: autocommit %v writing %v", a, w)
	}
	mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"INSERT INTO t (s) VALUES ('tx')"}}`)
	if a, w := state(); a || !w {
		t.Fatalf("after INSERT: autocommit %v writing %v", a, w)
	}
	var n int
	db.Read.QueryRow("SELECT count(*) FROM t").Scan(&n)
	if n != 0 {
		t.Fatal("an uncommitted row is visible to another connection")
	}
	mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"COMMIT"}}`)
	if a, w := state(); !a || w {
		t.Fatalf("after COMMIT: autocommit %v writing %v", a, w)
	}
	db.Read.QueryRow("SELECT count(*) FROM t").Scan(&n)
	if n != 1 {
		t.Fatal("the committed row is not visible")
	}

	// The stream's owner takes the write lock back; the stream goes on.
	mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"BEGIN IMMEDIATE"}}`)
	mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"INSERT INTO t (s) VALUES ('lost')"}}`)
	if err := c.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if a, w := state(); !a || w {
		t.Fatalf("after Rollback: autocommit %v writing %v", a, w)
	}
	res := result(t, mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"SELECT count(*) FROM t"}}`))
	if path(res, "rows", 0, 0, "value") != "1" {
		t.Fatalf("after Rollback: %v", res)
	}
}

func TestConn_BeginReadOnly(t *testing.T) {
	db := mustDB(t)
	c := mustConn(t, db)
	ctx := context.Background()
	// Without a guard the mode is only the transaction's kind: deferred,
	// not a transaction named READONLY (both are deferred in plain SQLite;
	// the guard makes it read-only: policy.go).
	for _, begin := range []string{"BEGIN TRANSACTION READONLY", "begin  /* x */ transaction\n readonly ;", "BEGIN READONLY"} {
		mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":`+jsonOf(t, begin)+`}}`)
		if a, _ := c.Autocommit(ctx); a {
			t.Fatalf("%q opened no transaction", begin)
		}
		res := result(t, mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"SELECT count(*) FROM t"}}`))
		if path(res, "rows", 0, 0, "value") != "0" {
			t.Fatalf("read in the transaction: %v", res)
		}
		mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"COMMIT"}}`)
	}
	// In @libsql/client's batch shape, with the "read" mode's BEGIN.
	res := result(t, mustDo(t, c, 2, tsBatch("BEGIN TRANSACTION READONLY", "SELECT count(*) FROM t")))
	if got := jsonOf(t, res["step_errors"]); got != "[null,null,null,null]" {
		t.Errorf("step_errors %s", got)
	}
	if a, _ := c.Autocommit(ctx); !a {
		t.Error("the read batch left a transaction open")
	}
}

func TestConn_Cursor(t *testing.T) {
	db := mustDB(t)
	c := mustConn(t, db)
	var b hrana.Batch
	err := json.Unmarshal([]byte(`{"steps":[
		{"stmt":{"sql":"INSERT INTO t (s) VALUES ('a'), ('b')"}},
		{"stmt":{"sql":"SELECT s FROM t ORDER BY s"},"condition":{"type":"ok","step":0}},
		{"stmt":{"sql":"INSERT INTO t (s) VALUES ('a')"}},
		{"stmt":{"sql":"SELECT 1"},"condition":{"type":"ok","step":2}},
		{"stmt":{"sql":"SELECT 2"},"condition":{"type":"is_autocommit"}}]}`), &b)
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	err = c.Cursor(context.Background(), &b, func(e any) error {
		entries = append(entries, jsonOf(t, e))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"type":"step_begin","step":0,"cols":[]}`,
		`{"type":"step_end","affected_row_count":2,"last_insert_rowid":"2"}`,
		`{"type":"step_begin","step":1,"cols":[{"name":"s","decltype":"TEXT"}]}`,
		`{"type":"row","row":[{"type":"text","value":"a"}]}`,
		`{"type":"row","row":[{"type":"text","value":"b"}]}`,
		`{"type":"step_end","affected_row_count":0,"last_insert_rowid":null}`,
		`{"type":"step_begin","step":2,"cols":[]}`,
		`{"type":"step_error","step":2,"error":{"message":"UNIQUE constraint failed: t.s","code":"SQLITE_CONSTRAINT"}}`,
		`{"type":"step_begin","step":4,"cols":[{"name":"2","decltype":null}]}`,
		`{"type":"row","row":[{"type":"integer","value":"2"}]}`,
		`{"type":"step_end","affected_row_count":0,"last_insert_rowid":null}`,
	}
	if strings.Join(entries, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries\n got %s\nwant %s", strings.Join(entries, "\n"), strings.Join(want, "\n"))
	}
	// A forward condition is refused before any entry.
	b.Steps[0].Condition = &hrana.Cond{Type: "ok", Step: new(int)}
	entries = nil
	err = c.Cursor(context.Background(), &b, func(e any) error { entries = append(entries, jsonOf(t, e)); return nil })
	var pe *hrana.ProtocolError
	if !errors.As(err, &pe) || len(entries) > 0 {
		t.Errorf("forward condition: err %v, entries %v", err, entries)
	}
}

// TestConn_CursorClientGone stops a cursor whose client went away at the
// row it could not send; the stream's connection stays usable.
func TestConn_CursorClientGone(t *testing.T) {
	db := mustDB(t)
	c := mustConn(t, db)
	var b hrana.Batch
	if err := json.Unmarshal([]byte(`{"steps":[{"stmt":{"sql":"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT i FROM n"}}]}`), &b); err != nil {
		t.Fatal(err)
	}
	gone := errors.New("client gone")
	rows := 0
	err := c.Cursor(context.Background(), &b, func(e any) error {
		if _, ok := e.(*hrana.RowEntry); ok {
			if rows++; rows == 1000 {
				return gone
			}
		}
		return nil
	})
	if !errors.Is(err, gone) || rows != 1000 {
		t.Fatalf("err %v after %d rows", err, rows)
	}
	mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"SELECT 1"}}`)
}

// TestConn_ContextEnds interrupts a statement whose request's context
// ends: the result is SQLITE_INTERRUPT and the stream goes on.
func TestConn_ContextEnds(t *testing.T) {
	db := mustDB(t)
	c := mustConn(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	sql := "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT count(*) FROM n"
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, e, perr := c.Do(ctx, 2, &hrana.StreamRequest{Type: "execute", Stmt: &hrana.Stmt{SQL: &sql}})
	wantCode(t, e, perr, "SQLITE_INTERRUPT")
	mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"SELECT 1"}}`)
}

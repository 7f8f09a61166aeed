package hrana_test

import (
	"encoding/json"
	"testing"
)

// tsBatch is @libsql/client's batch() in "write" mode: BEGIN IMMEDIATE,
// each statement on ok of the one before, COMMIT on ok of the last, and a
// ROLLBACK on not ok of the COMMIT.
func tsBatch(begin string, stmts ...string) string {
	steps := []any{map[string]any{"stmt": map[string]any{"sql": begin, "want_rows": false}}}
	for _, s := range stmts {
		steps = append(steps, map[string]any{
			"stmt":      map[string]any{"sql": s, "args": []any{}, "named_args": []any{}, "want_rows": true},
			"condition": map[string]any{"type": "ok", "step": len(steps) - 1},
		})
	}
	steps = append(steps, map[string]any{
		"stmt":      map[string]any{"sql": "COMMIT", "want_rows": false},
		"condition": map[string]any{"type": "ok", "step": len(steps) - 1},
	})
	steps = append(steps, map[string]any{
		"stmt":      map[string]any{"sql": "ROLLBACK", "want_rows": false},
		"condition": map[string]any{"type": "not", "cond": map[string]any{"type": "ok", "step": len(steps) - 1}},
	})
	b, _ := json.Marshal(map[string]any{"type": "batch", "batch": map[string]any{"steps": steps}})
	return string(b)
}

func TestConn_Batch(t *testing.T) {
	db := mustDB(t)
	c := mustConn(t, db)
	rows := func() int {
		t.Helper()
		var n int
		if err := db.Read.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("Committed", func(t *testing.T) {
		res := result(t, mustDo(t, c, 2, tsBatch("BEGIN IMMEDIATE", "INSERT INTO t (s) VALUES ('a')", "INSERT INTO t (s) VALUES ('b')", "SELECT count(*) FROM t")))
		if got := jsonOf(t, res["step_errors"]); got != "[null,null,null,null,null,null]" {
			t.Errorf("step_errors %s", got)
		}
		if got := jsonOf(t, path(res, "step_results", 3, "rows")); got != `[[{"type":"integer","value":"2"}]]` {
			t.Errorf("count step rows %s", got)
		}
		if path(res, "step_results", 5) != nil {
			t.Error("the ROLLBACK ran")
		}
		if rows() != 2 {
			t.Errorf("%d rows", rows())
		}
	})
	t.Run("FailingStepRolledBack", func(t *testing.T) {
		res := result(t, mustDo(t, c, 2, tsBatch("BEGIN IMMEDIATE", "INSERT INTO t (s) VALUES ('c')", "INSERT INTO t (s) VALUES ('a')", "INSERT INTO t (s) VALUES ('d')")))
		if got := path(res, "step_errors", 2, "code"); got != "SQLITE_CONSTRAINT" {
			t.Errorf("step 2 error %v", got)
		}
		for _, i := range []int{3, 4} {
			if path(res, "step_results", i) != nil || path(res, "step_errors", i) != nil {
				t.Errorf("step %d ran", i)
			}
		}
		if path(res, "step_results", 5) == nil {
			t.Errorf("the ROLLBACK did not run: %v", path(res, "step_errors", 5))
		}
		if rows() != 2 {
			t.Errorf("%d rows: the failed batch was not rolled back", rows())
		}
		if auto, err := c.Autocommit(t.Context()); err != nil || !auto {
			t.Errorf("autocommit %v %v", auto, err)
		}
	})
	t.Run("StoredSQLSteps", func(t *testing.T) {
		// @libsql/client stores the statements' texts first, then refers to
		// them in the batch by sql_id.
		mustDo(t, c, 2, `{"type":"store_sql","sql_id":1,"sql":"INSERT INTO t (s, i) VALUES (?, ?)"}`)
		mustDo(t, c, 2, `{"type":"store_sql","sql_id":2,"sql":"SELECT i FROM t WHERE s = ?"}`)
		req := `{"type":"batch","batch":{"steps":[
			{"stmt":{"sql":"BEGIN DEFERRED","want_rows":false}},
			{"stmt":{"sql_id":1,"args":[{"type":"text","value":"stored"},{"type":"float","value":7}],"named_args":[],"want_rows":true},"condition":{"type":"ok","step":0}},
			{"stmt":{"sql_id":2,"args":[{"type":"text","value":"stored"}],"named_args":[],"want_rows":true},"condition":{"type":"ok","step":1}},
			{"stmt":{"sql":"COMMIT","want_rows":false},"condition":{"type":"ok","step":2}},
			{"stmt":{"sql":"ROLLBACK","want_rows":false},"condition":{"type":"not","cond":{"type":"ok","step":3}}}]}}`
		res := result(t, mustDo(t, c, 2, req))
		if got := jsonOf(t, path(res, "step_results", 2, "rows")); got != `[[{"type":"integer","value":"7"}]]` {
			t.Errorf("rows %s (errors %s)", got, jsonOf(t, res["step_errors"]))
		}
		mustDo(t, c, 2, `{"type":"close_sql","sql_id":1}`)
		mustDo(t, c, 2, `{"type":"close_sql","sql_id":2}`)
		mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"DELETE FROM t WHERE s = 'stored'"}}`)
	})
	t.Run("GoMultiStatementExec", func(t *testing.T) {
		// libsql-client-go splits a multi-statement Exec itself: each step
		// on ok of the one before, then a ROLLBACK if the last did not run ok.
		req := `{"type":"batch","batch":{"steps":[
			{"stmt":{"sql":"CREATE TABLE g (a)","want_rows":false}},
			{"stmt":{"sql":"INSERT INTO g VALUES (1)","want_rows":false},"condition":{"type":"ok","step":0}},
			{"stmt":{"sql":"INSERT INTO g VALUES (2)","want_rows":false},"condition":{"type":"ok","step":1}},
			{"stmt":{"sql":"ROLLBACK","want_rows":false},"condition":{"type":"not","cond":{"type":"ok","step":2}}}]}}`
		res := result(t, mustDo(t, c, 2, req))
		if got := jsonOf(t, res["step_errors"]); got != "[null,null,null,null]" {
			t.Errorf("step_errors %s", got)
		}
		if path(res, "step_results", 3) != nil {
			t.Error("the ROLLBACK ran")
		}
		if got := path(res, "step_results", 2, "last_insert_rowid"); got != "2" {
			t.Errorf("last_insert_rowid %v", got)
		}
	})
	t.Run("Conditions", func(t *testing.T) {
		req := `{"type":"batch","batch":{"steps":[
			{"stmt":{"sql":"SELECT 1"}},
			{"stmt":{"sql":"SELECT nope"}},
			{"stmt":{"sql":"SELECT 3"},"condition":{"type":"and","conds":[{"type":"ok","step":0},{"type":"error","step":1}]}},
			{"stmt":{"sql":"SELECT 4"},"condition":{"type":"or","conds":[{"type":"error","step":0},{"type":"ok","step":1}]}},
			{"stmt":{"sql":"SELECT 5"},"condition":{"type":"is_autocommit"}}]}}`
		res := result(t, mustDo(t, c, 3, req))
		ran := []bool{true, false, true, false, true}
		for i, want := range ran {
			if got := path(res, "step_results", i) != nil; got != want {
				t.Errorf("step %d ran %v, want %v", i, got, want)
			}
		}
		if _, _, perr := do(t, c, 2, req); perr == nil {
			t.Error("is_autocommit accepted on version 2")
		}
	})
	t.Run("ForwardCondition", func(t *testing.T) {
		for _, cond := range []string{`{"type":"ok","step":1}`, `{"type":"ok","step":2}`, `{"type":"not","cond":{"type":"error","step":5}}`, `{"type":"ok"}`, `{"type":"maybe"}`} {
			req := `{"type":"batch","batch":{"steps":[
				{"stmt":{"sql":"INSERT INTO t (s) VALUES ('forward')"}},
				{"stmt":{"sql":"SELECT 1"},"condition":` + cond + `}]}}`
			if _, _, perr := do(t, c, 2, req); perr == nil {
				t.Errorf("%s: no protocol error", cond)
			}
		}
		var n int
		db.Read.QueryRow("SELECT count(*) FROM t WHERE s = 'forward'").Scan(&n)
		if n != 0 {
			t.Error("a step ran before the batch was refused")
		}
	})
}

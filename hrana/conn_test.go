package hrana_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/sqlitedb"
)

// mustDB opens a real file with a table for the tests.
func mustDB(t testing.TB) *sqlitedb.DB {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "t.db"), sqlitedb.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, err = db.Write.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT UNIQUE, b BLOB, at DATETIME, x)`)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// mustConn is a stream's Conn on db, without a guard.
func mustConn(t testing.TB, db *sqlitedb.DB) *hrana.Conn {
	t.Helper()
	sc, err := db.StreamConn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := hrana.NewConn(sc, nil)
	t.Cleanup(func() { c.Close() })
	return c
}

// do decodes req as a client sends it, runs it, and returns the response
// as generic JSON (numbers as json.Number) for comparing fields.
func do(t *testing.T, c *hrana.Conn, version int, req string) (map[string]any, *hrana.Error, error) {
	t.Helper()
	var r hrana.StreamRequest
	if err := json.Unmarshal([]byte(req), &r); err != nil {
		t.Fatalf("decode %s: %v", req, err)
	}
	resp, e, perr := c.Do(context.Background(), version, &r)
	if resp == nil {
		return nil, e, perr
	}
	return generic(t, resp), e, perr
}

func generic(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// mustDo is do for a request that must succeed.
func mustDo(t *testing.T, c *hrana.Conn, version int, req string) map[string]any {
	t.Helper()
	resp, e, perr := do(t, c, version, req)
	if e != nil || perr != nil {
		t.Fatalf("%s: error %v, protocol error %v", req, e, perr)
	}
	return resp
}

// result is an execute response's result.
func result(t *testing.T, resp map[string]any) map[string]any {
	t.Helper()
	r, ok := resp["result"].(map[string]any)
	if !ok {
		t.Fatalf("no result in %v", resp)
	}
	return r
}

// path walks generic JSON: keys for objects, ints for arrays.
func path(v any, p ...any) any {
	for _, k := range p {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// canon re-encodes a JSON text with sorted keys, as jsonOf encodes generic JSON.
func canon(t *testing.T, s string) string {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return jsonOf(t, v)
}

func wantCode(t *testing.T, e *hrana.Error, perr error, code string) {
	t.Helper()
	if perr != nil {
		t.Fatalf("protocol error %v, want %s", perr, code)
	}
	if e == nil || e.Code != code {
		t.Fatalf("error %+v, want %s", e, code)
	}
}

func TestConn_ValuesRoundTrip(t *testing.T) {
	db := mustDB(t)
	c := mustConn(t, db)
	insert := `{"type":"execute","stmt":{"sql":"INSERT INTO t (i, r, s, b, x) VALUES (?, ?, ?, ?, ?)","args":[
		{"type":"integer","value":"9007199254740993"},
		{"type":"float","value":-0.5},
		{"type":"text","value":"héllo ✓ 𝄞"},
		{"type":"blob","base64":"AQID/w"},
		{"type":"null"}],"want_rows":false}}`
	res := result(t, mustDo(t, c, 2, insert))
	if got := jsonOf(t, res["last_insert_rowid"]); got != `"1"` {
		t.Errorf("last_insert_rowid %s, want \"1\"", got)
	}
	if got := res["affected_row_count"]; got != json.Number("1") {
		t.Errorf("affected_row_count %v", got)
	}
	// A padded blob and an integer sent as a JSON number are accepted too.
	mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"INSERT INTO t (i, b) VALUES (?, ?)","args":[
		{"type":"integer","value":42},{"type":"blob","base64":"AQID/w=="}]}}`)
	res = result(t, mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"SELECT i, r, s, b, x, typeof(r) FROM t ORDER BY id"}}`))
	want := `[[{"type":"integer","value":"9007199254740993"},{"type":"float","value":-0.5},{"type":"text","value":"héllo ✓ 𝄞"},{"type":"blob","base64":"AQID/w"},{"type":"null"},{"type":"text","value":"real"}],` +
		`[{"type":"integer","value":"42"},{"type":"null"},{"type":"null"},{"type":"blob","base64":"AQID/w"},{"type":"null"},{"type":"text","value":"null"}]]`
	if got := jsonOf(t, res["rows"]); got != canon(t, want) {
		t.Errorf("rows\n got %s\nwant %s", got, want)
	}
	// SELECT: no last_insert_rowid, no affected rows.
	if res["last_insert_rowid"] != nil || res["affected_row_count"] != json.Number("0") {
		t.Errorf("SELECT result %v", res)
	}
	// A JS number as a float into an INTEGER column is stored as an
	// integer (affinity), a float into an untyped column stays REAL.
	mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"INSERT INTO t (i, x) VALUES (?, ?)","args":[{"type":"float","value":3},{"type":"float","value":3}]}}`)
	res = result(t, mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"SELECT typeof(i), typeof(x) FROM t WHERE id = 3"}}`))
	if got := jsonOf(t, res["rows"]); got != `[[{"type":"text","value":"integer"},{"type":"text","value":"real"}]]` {
		t.Errorf("affinity: %s", got)
	}
}

func TestValue_JSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
		out  string
	}{
		{`{"type":"null"}`, nil, `{"type":"null"}`},
		{`{"type":"integer","value":"-42"}`, int64(-42), `{"type":"integer","value":"-42"}`},
		{`{"type":"integer","value":7}`, int64(7), `{"type":"integer","value":"7"}`},
		{`{"type":"float","value":1.5}`, 1.5, `{"type":"float","value":1.5}`},
		{`{"type":"float","value":3}`, 3.0, `{"type":"float","value":3}`},
		{`{"type":"text","value":""}`, "", `{"type":"text","value":""}`},
		{`{"type":"blob","base64":""}`, []byte{}, `{"type":"blob","base64":""}`},
		{`{"type":"blob","base64":"AQ=="}`, []byte{1}, `{"type":"blob","base64":"AQ"}`},
		{`{"type":"blob","base64":"-_8"}`, []byte{0xfb, 0xff}, `{"type":"blob","base64":"+/8"}`},
	} {
		var v hrana.Value
		if err := json.Unmarshal([]byte(tc.in), &v); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(v.V, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.in, v.V, tc.want)
		}
		if got := jsonOf(t, v); got != tc.out {
			t.Errorf("%s: out %s, want %s", tc.in, got, tc.out)
		}
	}
	// SQLite computes ±Inf, which JSON cannot carry.
	if got := jsonOf(t, hrana.Value{V: math.Inf(1)}); got != `{"type":"null"}` {
		t.Errorf("+Inf: %s", got)
	}
	for _, bad := range []string{
		`{"type":"integer","value":"1.5"}`, `{"type":"integer","value":"99999999999999999999"}`,
		`{"type":"integer"}`, `{"type":"float","value":"x"}`, `{"type":"text"}`, `{"type":"text","value":1}`,
		`{"type":"blob"}`, `{"type":"blob","base64":"!!"}`, `{"type":"date","value":"x"}`,
	} {
		var v hrana.Value
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s: accepted as %#v", bad, v.V)
		}
	}
}

func TestConn_Execute(t *testing.T) {
	db := mustDB(t)
	c := mustConn(t, db)
	mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"INSERT INTO t (s, at) VALUES ('a', '2026-12-01 10:00:00')"}}`)

	t.Run("Decltype", func(t *testing.T) {
		res := result(t, mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"SELECT id, at, x, 1 + 1 AS two FROM t"}}`))
		want := `[{"name":"id","decltype":"INTEGER"},{"name":"at","decltype":"DATETIME"},{"name":"x","decltype":null},{"name":"two","decltype":null}]`
		if got := jsonOf(t, res["cols"]); got != canon(t, want) {
			t.Errorf("cols %s, want %s", got, want)
		}
	})
	t.Run("NamedArgs", func(t *testing.T) {
		for _, req := range []string{
			`{"type":"execute","stmt":{"sql":"SELECT :a, @b, $c","named_args":[{"name":"a","value":{"type":"integer","value":"1"}},{"name":"b","value":{"type":"integer","value":"2"}},{"name":"c","value":{"type":"integer","value":"3"}}]}}`,
			`{"type":"execute","stmt":{"sql":"SELECT :a, @b, $c","named_args":[{"name":":a","value":{"type":"integer","value":"1"}},{"name":"@b","value":{"type":"integer","value":"2"}},{"name":"$c","value":{"type":"integer","value":"3"}}]}}`,
			`{"type":"execute","stmt":{"sql":"SELECT ?1, ?2, ?3","args":[{"type":"integer","value":"1"},{"type":"integer","value":"2"},{"type":"integer","value":"3"}]}}`,
			`{"type":"execute","stmt":{"sql":"SELECT ?3 - 2, ?2, ?3","args":[{"type":"integer","value":"1"},{"type":"integer","value":"2"},{"type":"integer","value":"3"}]}}`,
		} {
			res := result(t, mustDo(t, c, 2, req))
			if got, want := jsonOf(t, path(res, "rows", 0)), `[{"type":"integer","value":"1"},{"type":"integer","value":"2"},{"type":"integer","value":"3"}]`; got != want {
				t.Errorf("%s: row %s", req, got)
			}
		}
	})
	t.Run("ArgsInvalid", func(t *testing.T) {
		for _, req := range []string{
			`{"type":"execute","stmt":{"sql":"SELECT ?, ?","args":[{"type":"integer","value":"1"}]}}`,
			`{"type":"execute","stmt":{"sql":"SELECT ?","args":[{"type":"integer","value":"1"},{"type":"integer","value":"2"}]}}`,
			`{"type":"execute","stmt":{"sql":"SELECT :a"}}`,
			`{"type":"execute","stmt":{"sql":"SELECT :a","named_args":[{"name":"b","value":{"type":"null"}}]}}`,
			`{"type":"execute","stmt":{"sql":"SELECT :a","named_args":[{"name":"a","value":{"type":"null"}},{"name":"b","value":{"type":"null"}}]}}`,
			`{"type":"execute","stmt":{"sql":"SELECT 1","args":[{"type":"null"}]}}`,
		} {
			_, e, perr := do(t, c, 2, req)
			wantCode(t, e, perr, hrana.CodeArgsInvalid)
		}
		_, e, perr := do(t, c, 2, `{"type":"execute","stmt":{"sql":"SELECT ?, :a","args":[{"type":"null"}],"named_args":[{"name":"a","value":{"type":"null"}}]}}`)
		wantCode(t, e, perr, hrana.CodeArgsBoth)
	})
	t.Run("Statements", func(t *testing.T) {
		for _, sql := range []string{"SELECT 1; SELECT 2", "SELECT 1; SELEC 2", "CREATE TABLE u (a); INSERT INTO u VALUES (1)"} {
			_, e, perr := do(t, c, 2, `{"type":"execute","stmt":{"sql":`+jsonOf(t, sql)+`}}`)
			wantCode(t, e, perr, hrana.CodeManyStatements)
		}
		for _, sql := range []string{"", "  ", "-- nothing\n", "/* nothing */;"} {
			_, e, perr := do(t, c, 2, `{"type":"execute","stmt":{"sql":`+jsonOf(t, sql)+`}}`)
			wantCode(t, e, perr, hrana.CodeNoStatement)
		}
		mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"SELECT 1; -- done\n ;"}}`)
	})
	t.Run("SQLError", func(t *testing.T) {
		_, e, perr := do(t, c, 2, `{"type":"execute","stmt":{"sql":"INSERT INTO t (s) VALUES ('a')"}}`)
		wantCode(t, e, perr, "SQLITE_CONSTRAINT")
		if !strings.Contains(e.Message, "UNIQUE constraint failed") {
			t.Errorf("message %q", e.Message)
		}
		_, e, perr = do(t, c, 2, `{"type":"execute","stmt":{"sql":"SELECT * FROM nowhere"}}`)
		wantCode(t, e, perr, "SQLITE_ERROR")
	})
	t.Run("WantRowsFalse", func(t *testing.T) {
		res := result(t, mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"UPDATE t SET x = 1 RETURNING id","want_rows":false}}`))
		if got := jsonOf(t, res["rows"]); got != "[]" || res["affected_row_count"] != json.Number("1") {
			t.Errorf("rows %s affected %v", got, res["affected_row_count"])
		}
	})
	t.Run("ProtocolErrors", func(t *testing.T) {
		for _, req := range []string{
			`{"type":"execute"}`,
			`{"type":"execute","stmt":{}}`,
			`{"type":"execute","stmt":{"sql":"SELECT 1","sql_id":1}}`,
			`{"type":"nope"}`,
			`{"type":"get_autocommit"}`,
		} {
			if _, _, perr := do(t, c, 2, req); perr == nil {
				t.Errorf("%s: no protocol error", req)
			}
		}
	})
}

func TestConn_ResponseTooLarge(t *testing.T) {
	db := mustDB(t)
	c := mustConn(t, db)
	c.MaxResponse = 10 << 10
	mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"SELECT randomblob(1000) FROM (SELECT 1 UNION ALL SELECT 2)"}}`)
	_, e, perr := do(t, c, 2, `{"type":"execute","stmt":{"sql":"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT i, randomblob(100) FROM n"}}`)
	wantCode(t, e, perr, hrana.CodeResponseTooLarge)
}

func TestConn_CloseRollsBack(t *testing.T) {
	db := mustDB(t)
	sc, err := db.StreamConn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := hrana.NewConn(sc, nil)
	mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"BEGIN"}}`)
	mustDo(t, c, 2, `{"type":"execute","stmt":{"sql":"INSERT INTO t (s) VALUES ('uncommitted')"}}`)
	if w, err := c.Writing(context.Background()); err != nil || !w {
		t.Fatalf("writing %v %v", w, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	var n int
	if err := db.Read.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Fatalf("count %d %v: the transaction was not rolled back", n, err)
	}
	// The writer is free again.
	if _, err := db.Write.Exec("INSERT INTO t (s) VALUES ('after')"); err != nil {
		t.Fatal(err)
	}
	if _, _, perr := do(t, c, 2, `{"type":"execute","stmt":{"sql":"SELECT 1"}}`); perr == nil {
		t.Fatal("a closed Conn ran a request")
	}
}

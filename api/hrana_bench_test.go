package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/hrana"
)

// BenchmarkHranaExecuteClose serves one pipeline of execute (a point
// SELECT) and close, as @libsql/client's execute() sends it, in-process:
// resolve, authenticate the API token, open a stream (pinned handle,
// stream connection, guard), run, close. Compare with BenchmarkGetContent.
func BenchmarkHranaExecuteClose(b *testing.B) {
	e := newSQL(b, api.Config{}, hrana.Config{})
	tok := e.write["tenant-a"]
	body := pipe(nil, execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"), execute("INSERT INTO t VALUES (1, 'one')"), closeReq)
	serve := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v2/pipeline", strings.NewReader(body))
		req.Host = "tenant-a.localhost"
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		e.API.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code, w.Body.String())
		}
		return w
	}
	serve(body)
	body = pipe(nil, execute("SELECT v FROM t WHERE id = 1"), closeReq)
	b.ReportAllocs()
	for b.Loop() {
		serve(body)
	}
}

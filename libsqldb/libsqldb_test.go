package libsqldb_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/libsqldb"
)

// A database at a Condo server's libSQL endpoint: queries on a reused
// connection keep its stream (one request each, no stream closed and
// opened between them), and Ping reaches the server.
func TestDB_KeepsStreams(t *testing.T) {
	ctx := context.Background()
	loc := apitest.New(t, api.Config{})
	var token string
	loc.AuthStore(t, "tenant-a", func(st *auth.Store) {
		var err error
		if _, token, err = st.CreateAPIToken(ctx, auth.NewAPIToken{Name: "t", Permissions: auth.MustPerms(auth.SQLRead, auth.SQLWrite)}); err != nil {
			t.Fatal(err)
		}
	})
	var requests atomic.Int64
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		loc.Srv.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(counting.Close)
	db, err := libsqldb.Open(counting.URL+api.TenantPathPrefix+"tenant-a", token)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if requests.Load() == 0 {
		t.Error("Ping sent no request")
	}
	requests.Store(0)
	for range 10 {
		var n int
		if err := db.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
			t.Fatalf("query: %d %v", n, err)
		}
	}
	if got := requests.Load(); got != 10 {
		t.Errorf("10 queries sent %d requests, want 10 (the stream kept)", got)
	}

	// A server that does not answer: Ping says so, without the token.
	dead := httptest.NewServer(nil)
	url := dead.URL
	dead.Close()
	gone, err := libsqldb.Open(url, "secret-token")
	if err != nil {
		t.Fatal(err)
	}
	defer gone.Close()
	if err := gone.Ping(ctx); err == nil || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("Ping of a dead server: %v", err)
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"libsql://db.turso.io?authToken=abc", "libsql://db.turso.io"},
		{"https://user:pass@host/x", "https://host/x"},
		{"http://127.0.0.1:8080/_condo/tenants/t1", "http://127.0.0.1:8080/_condo/tenants/t1"},
	} {
		if got := libsqldb.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	err := libsqldb.RedactError(errFor("post https://u:p@host/v2?authToken=abc: token tok123 refused"), "tok123")
	if strings.Contains(err, "tok123") || strings.Contains(err, "abc") || strings.Contains(err, "u:p") {
		t.Errorf("RedactError left a secret: %s", err)
	}
}

type errFor string

func (e errFor) Error() string { return string(e) }

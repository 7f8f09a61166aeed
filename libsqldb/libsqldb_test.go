package libsqldb_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/libsqldb"
)

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"libsql://db-org.turso.io":                     "libsql://db-org.turso.io",
		"libsql://db-org.turso.io?authToken=SECRET":    "libsql://db-org.turso.io",
		"https://user:SECRET@host:8080/_condo/t1#frag": "https://host:8080/_condo/t1",
		"http://h/%zz?authToken=SECRET":                "http://[redacted]",
	} {
		if got := libsqldb.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactError(t *testing.T) {
	err := errors.New(`Post "https://u:SECRET@db.example/v2/pipeline?authToken=SECRET": token TOKEN refused`)
	got := libsqldb.RedactError(err, "TOKEN")
	if strings.Contains(got, "SECRET") || strings.Contains(got, "TOKEN") {
		t.Fatalf("RedactError left a secret: %s", got)
	}
	if !strings.Contains(got, "https://db.example/v2/pipeline") {
		t.Fatalf("RedactError dropped the redacted URL: %s", got)
	}
	wrapped := libsqldb.ErrRedacted(err, "TOKEN")
	if wrapped.Error() != got || !errors.Is(wrapped, err) {
		t.Fatalf("ErrRedacted = %q (Is %v)", wrapped, errors.Is(wrapped, err))
	}
}

func TestValidate(t *testing.T) {
	for _, ok := range []string{"libsql://db.turso.io", "https://h:1/_condo/tenants/t1", "http://127.0.0.1:9"} {
		if err := libsqldb.Validate(ok); err != nil {
			t.Errorf("Validate(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "file:/tmp/x.db", "/data/t.db", "libsql://", "https://u:SECRET@h", "https://h?authToken=SECRET", "ftp://h"} {
		err := libsqldb.Validate(bad)
		if condo.ErrorCode(err) != condo.EINVALID {
			t.Errorf("Validate(%q) = %v, want EINVALID", bad, err)
		} else if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("Validate(%q) shows the secret: %v", bad, err)
		}
	}
}

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

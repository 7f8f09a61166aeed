package api_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tursodatabase/libsql-client-go/libsql"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/libsqldb"
)

// BenchmarkRemoteRead measures a point read of a tenant at a remote
// location (target: through the CMS within 2x of the network round trip
// to the location), side by side: RawAtLocation is one libsql-client-go
// point query sent to the location itself (a Condo server's
// /_condo/tenants/<id>); CMSThroughHome is GET /api/content/:id of the
// same item at the home node, which reads it from the location, with a
// session (its JWT's session and user are read too: three more point
// queries) and anonymously (a public collection, the answer cache off:
// one query at the location, the collection being cached). RawDriver is
// the point query through libsql-client-go as it comes, RawAtLocation
// through libsqldb (the home node's client, which keeps its streams).
// Both servers are real Condo servers on loopback, in process. p50-us is
// the median of the loop's requests.
func BenchmarkRemoteRead(b *testing.B) {
	ctx := context.Background()
	loc := apitest.New(b, api.Config{})
	var owner string
	loc.AuthStore(b, "tenant-a", func(st *auth.Store) {
		var err error
		_, owner, err = st.CreateAPIToken(ctx, auth.NewAPIToken{Name: "location", Permissions: auth.MustPerms(auth.SQLRead, auth.SQLWrite, auth.SQLOwner)})
		if err != nil {
			b.Fatal(err)
		}
	})
	locURL := loc.Srv.URL + api.TenantPathPrefix + "tenant-a"
	home := apitest.New(b, api.Config{ContentCache: -1})
	if _, err := home.Store.Create(ctx, catalog.NewTenant{ID: "remote", Location: locURL, LocationToken: owner}); err != nil {
		b.Fatal(err)
	}
	home.User(b, "remote", "ed@example.com", auth.RoleAdmin, "a long chosen password")
	jwt, _ := home.Login(b, "remote", "ed@example.com", "a long chosen password")
	res := home.Call(b, "remote", "POST", "/api/collections", jwt, `{"name": "posts", "public": true, "schema": {"type": "object", "properties": {"body": {"type": "string"}}}}`)
	apitest.WantStatus(b, res, 201, "")
	res = home.Call(b, "remote", "POST", "/api/collections/posts/content", jwt, `{"title": "Point", "status": "published", "data": {"body": "read me"}}`)
	apitest.WantStatus(b, res, 201, "")
	id := res.Data["id"].(string)

	if testing.Verbose() {
		before := loc.Log.String()
		req, _ := http.NewRequest(http.MethodGet, home.Srv.URL+"/api/content/"+id, nil)
		req.Host = "remote.localhost"
		res, _ := http.DefaultClient.Do(req)
		res.Body.Close()
		before = loc.Log.String()
		res, _ = http.DefaultClient.Do(req)
		res.Body.Close()
		time.Sleep(100 * time.Millisecond)
		b.Logf("location log for one GET:\n%s", strings.TrimPrefix(loc.Log.String(), before))
	}
	point := func(b *testing.B, db *sql.DB) {
		timed(b, func() {
			var title string
			if err := db.QueryRowContext(ctx, "SELECT title FROM content WHERE id = ?", id).Scan(&title); err != nil || title != "Point" {
				b.Fatalf("point query: %q %v", title, err)
			}
		})
	}
	b.Run("RawDriver", func(b *testing.B) {
		c, err := libsql.NewConnector(locURL, libsql.WithAuthToken(owner))
		if err != nil {
			b.Fatal(err)
		}
		db := sql.OpenDB(c)
		defer db.Close()
		point(b, db)
	})
	b.Run("RawAtLocation", func(b *testing.B) {
		db, err := libsqldb.Open(locURL, owner)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		point(b, db.Reader())
	})
	get := func(b *testing.B, token string) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		timed(b, func() {
			req, _ := http.NewRequest(http.MethodGet, home.Srv.URL+"/api/content/"+id, nil)
			req.Host = "remote.localhost"
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"Point"`) {
				b.Fatalf("GET item: %d %s", res.StatusCode, body)
			}
		})
	}
	b.Run("CMSThroughHome/Anonymous", func(b *testing.B) { get(b, "") })
	b.Run("CMSThroughHome/Session", func(b *testing.B) { get(b, jwt) })
}

// timed runs op in the benchmark's loop and reports the median as p50-us.
func timed(b *testing.B, op func()) {
	var ds []time.Duration
	for b.Loop() {
		t0 := time.Now()
		op()
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-us")
}

package catalog_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/libsqldb"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/sqlitedb"
)

// Nodes of a fleet start at once against one control plane: each
// migrates it over libSQL (a deferred BEGIN there), and every one opens.
// The catalog starts a version behind, as after a release: every node
// reads the old version, and all but the first to write would fail with
// SQLITE_BUSY (a deferred transaction cannot wait for a lock once it has
// read) if OpenURL did not try again.
func TestOpenURL_ConcurrentStart(t *testing.T) {
	dir := t.TempDir()
	ts := serveCatalogFile(t, dir)
	{
		set := migrations.Catalog()
		db, err := sqlitedb.Open(catalog.Path(dir), sqlitedb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := set.Apply(context.Background(), db.Write, set.Latest()-1); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	const nodes = 6
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := catalog.OpenURL(context.Background(), ts.url, testToken, catalog.Config{})
			if err == nil {
				c.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	db, err := sqlitedb.Open(catalog.Path(dir), sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, dirty, err := migrations.Version(context.Background(), db.Read); err != nil || dirty || v != migrations.Catalog().Latest() {
		t.Fatalf("catalog at %d (dirty %v, %v), want %d", v, dirty, err, migrations.Catalog().Latest())
	}
}

func TestOpenURL_Refusals(t *testing.T) {
	ctx := context.Background()
	ts := serveCatalogFile(t, t.TempDir())
	if _, err := catalog.OpenURL(ctx, ts.url, "a wrong token", catalog.Config{}); err == nil || strings.Contains(err.Error(), "a wrong token") {
		t.Fatalf("wrong token: %v", err)
	}
	if _, err := catalog.OpenURL(ctx, "ftp://example.com/x", testToken, catalog.Config{}); condo.ErrorCode(err) != condo.EINVALID {
		t.Fatalf("not a libSQL URL: %v", err)
	}
	// The catalog token opens the catalog's file and nothing past it.
	db, err := libsqldb.Open(ts.url, testToken)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"ATTACH DATABASE 'elsewhere.db' AS x", "VACUUM INTO 'copy.db'", "SELECT load_extension('x')"} {
		if _, err := db.Writer().ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "not authorized") && !strings.Contains(err.Error(), "authorization denied") {
			t.Errorf("%s over the catalog endpoint: %v", q, err)
		}
	}
}

// A node that loses the control plane answers what it knew: hosts it
// resolved before (their cache entries expired), tenants on its list of
// known ones; a host it never knew is 503 catalog_unavailable. It counts
// the stale answers, says since when, and notices the catalog's return.
func TestCatalog_StaleWhileUnavailable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ts := serveCatalogFile(t, dir)
	c, err := catalog.OpenURL(ctx, ts.url, testToken, catalog.Config{CacheTTL: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustCreate(t, c, "seen", "seen.example.com")
	mustCreate(t, c, "listed")
	if _, err := c.ResolveHost(ctx, "seen.example.com", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.RefreshKnown(ctx); err != nil {
		t.Fatal(err)
	}
	if a := c.Availability(); !a.Reachable || a.KnownTenants != 2 {
		t.Fatalf("before: %+v", a)
	}

	ts.down.Store(true)
	time.Sleep(30 * time.Millisecond) // past the TTL
	for _, h := range []string{"seen.example.com", "listed.localhost", "seen.example.com"} {
		start := time.Now()
		got, err := c.ResolveHost(ctx, h, "")
		if err != nil {
			t.Fatalf("%s with the catalog down: %v", h, err)
		}
		if !strings.HasPrefix(h, got.ID) {
			t.Fatalf("%s resolved to %s", h, got.ID)
		}
		t.Logf("%s answered stale in %v", h, time.Since(start))
	}
	if _, err := c.ResolveHost(ctx, "never.localhost", ""); condo.ErrorReason(err) != "catalog_unavailable" {
		t.Fatalf("unknown host with the catalog down: %v", err)
	}
	if err := c.RefreshKnown(ctx); err == nil {
		t.Fatal("refresh with the catalog down succeeded")
	}
	a := c.Availability()
	if a.Reachable || a.UnreachableSince == nil || a.StaleServed < 3 || a.KnownTenants != 2 || strings.Contains(a.Error, testToken) {
		t.Fatalf("during: %+v", a)
	}

	ts.down.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for !c.Availability().Reachable {
		if time.Now().After(deadline) {
			t.Fatalf("the catalog's return not noticed: %+v", c.Availability())
		}
		c.ResolveHost(ctx, "never.localhost", "")
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := c.ResolveHost(ctx, "never.localhost", ""); condo.ErrorCode(err) != condo.ENOTFOUND {
		t.Fatalf("after: %v", err)
	}
}

// BenchmarkResolveHost_Backends: a warm resolution (the cache) against
// one that goes to the catalog every time (a TTL of a nanosecond), on the
// local file and over libSQL on loopback.
func BenchmarkResolveHost_Backends(b *testing.B) {
	for _, backend := range []string{"file", "libsql"} {
		for _, warm := range []bool{true, false} {
			name := backend + "/catalog"
			ttl := time.Nanosecond
			if warm {
				name, ttl = backend+"/warm", time.Minute
			}
			b.Run(name, func(b *testing.B) {
				overLibSQL = backend == "libsql"
				defer func() { overLibSQL = false }()
				c := mustOpen(b, b.TempDir(), catalog.Config{CacheTTL: ttl})
				mustCreate(b, c, "acme", "acme.example.com")
				ctx := context.Background()
				if _, err := c.ResolveHost(ctx, "acme.example.com", ""); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for range b.N {
					if _, err := c.ResolveHost(ctx, "acme.example.com", ""); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// Writes from many nodes at once over libSQL all land: a catalog
// transaction there takes the write lock at its start, as BEGIN
// IMMEDIATE does on the file, so none fails with SQLITE_BUSY.
func TestOpenURL_ConcurrentWrites(t *testing.T) {
	dir := t.TempDir()
	ts := serveCatalogFile(t, dir)
	var nodes []*catalog.Catalog
	for range 3 {
		c, err := catalog.OpenURL(context.Background(), ts.url, testToken, catalog.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		nodes = append(nodes, c)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("t%d", i)
			_, err := nodes[i%3].CreateTenant(context.Background(), catalog.NewTenant{ID: id, Domains: []string{id + ".example.com"}}, nil)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if list, n, err := nodes[0].Tenants(context.Background(), catalog.TenantFilter{Limit: 100}); err != nil || n != 30 || len(list) != 30 {
		t.Fatalf("%d tenants (%v)", n, err)
	}
}

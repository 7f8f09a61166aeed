package tenantstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

func TestStore_Create(t *testing.T) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
	ten, err := env.Store.Create(ctx, catalog.NewTenant{ID: "acme", Name: "Acme", Domains: []string{"acme.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ten.Schema.Version, migrations.Tenant().Latest(); got != want {
		t.Errorf("schema version = %d, want %d", got, want)
	}
	if got, want := len(ten.Domains), 1; got != want || !ten.Domains[0].Primary {
		t.Errorf("domains = %+v, want one primary", ten.Domains)
	}
	h, release, err := env.Store.Acquire(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var mode string
	if err := h.Reader().QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	for _, q := range []struct{ pragma, want string }{{"synchronous", "1"}, {"foreign_keys", "1"}, {"busy_timeout", "5000"}} {
		var got string
		if err := h.Writer().QueryRow("PRAGMA " + q.pragma).Scan(&got); err != nil || got != q.want {
			t.Errorf("PRAGMA %s = %q, %v; want %s", q.pragma, got, err, q.want)
		}
	}
	if _, err := h.Writer().Exec("INSERT INTO settings (key, value, updated_at) VALUES ('k', '1', 0)"); err != nil {
		t.Errorf("write through writer: %v", err)
	}
	if _, err := h.Reader().Exec("INSERT INTO settings (key, value, updated_at) VALUES ('r', '1', 0)"); err == nil {
		t.Errorf("reader accepted a write")
	}

	t.Run("Conflict", func(t *testing.T) {
		_, err := env.Store.Create(ctx, catalog.NewTenant{ID: "acme"})
		if got, want := condo.ErrorCode(err), condo.ECONFLICT; got != want {
			t.Fatalf("code = %q (%v), want %q", got, err, want)
		}
		// The existing tenant's data is untouched.
		var n int
		if err := h.Reader().QueryRow("SELECT count(*) FROM settings").Scan(&n); err != nil || n != 1 {
			t.Errorf("settings rows = %d, %v; want 1", n, err)
		}
	})
	t.Run("DomainTaken", func(t *testing.T) {
		_, err := env.Store.Create(ctx, catalog.NewTenant{ID: "other", Domains: []string{"acme.example.com"}})
		if got, want := condo.ErrorCode(err), condo.ECONFLICT; got != want {
			t.Fatalf("code = %q (%v), want %q", got, err, want)
		}
		if _, err := os.Stat(filepath.Join(env.DataDir, "tenants", "other")); !os.IsNotExist(err) {
			t.Errorf("files of the refused tenant exist: %v", err)
		}
		if _, err := env.Catalog.Tenant(ctx, "other"); condo.ErrorCode(err) != condo.ENOTFOUND {
			t.Errorf("catalog row of the refused tenant: %v", err)
		}
	})
	t.Run("BadIDs", func(t *testing.T) {
		for _, id := range []string{"", "../x", "a/b", ".", "..", "Upper", "-a", "a-", "a_b", "a.b", "é", string(make([]byte, 64))} {
			_, err := env.Store.Create(ctx, catalog.NewTenant{ID: id})
			if got, want := condo.ErrorCode(err), condo.EINVALID; got != want {
				t.Errorf("Create(%q) code = %q (%v), want %q", id, got, err, want)
			}
		}
		entries, _ := os.ReadDir(filepath.Join(env.DataDir, "tenants"))
		if len(entries) != 1 {
			t.Errorf("tenants dir has %d entries, want 1 (acme)", len(entries))
		}
	})
	t.Run("OrphanMovedAside", func(t *testing.T) {
		dir := filepath.Join(env.DataDir, "tenants", "ghost")
		os.MkdirAll(dir, 0o750)
		os.WriteFile(filepath.Join(dir, "tenant.db"), []byte("leftover"), 0o640)
		env.MustCreate(t, "ghost")
		orphans, _ := filepath.Glob(filepath.Join(env.DataDir, "orphans", "ghost-*", "tenant.db"))
		if len(orphans) != 1 {
			t.Errorf("orphans = %v, want the leftover moved aside", orphans)
		}
		_, release, err := env.Store.Acquire(ctx, "ghost")
		if err != nil {
			t.Fatal(err)
		}
		release()
	})
}

func TestStore_Acquire(t *testing.T) {
	ctx := context.Background()

	t.Run("NeverCreates", func(t *testing.T) {
		env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
		_, _, err := env.Store.Acquire(ctx, "nobody")
		if got, want := condo.ErrorReason(err), "tenant_not_found"; got != want {
			t.Fatalf("reason = %q (%v), want %q", got, err, want)
		}
		if _, err := os.Stat(filepath.Join(env.DataDir, "tenants", "nobody")); !os.IsNotExist(err) {
			t.Errorf("Acquire created files: %v", err)
		}
		_, _, err = env.Store.Acquire(ctx, "../etc")
		if got, want := condo.ErrorCode(err), condo.EINVALID; got != want {
			t.Errorf("code = %q, want %q", got, want)
		}
	})

	t.Run("ConcurrentMissesOpenOnce", func(t *testing.T) {
		env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 4})
		env.MustCreate(t, "a")
		var wg sync.WaitGroup
		handles := make([]*tenantstore.Handle, 32)
		for i := range handles {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h, release, err := env.Store.Acquire(ctx, "a")
				if err != nil {
					t.Error(err)
					return
				}
				handles[i] = h
				var n int
				h.Reader().QueryRow("SELECT count(*) FROM users").Scan(&n)
				release()
			}()
		}
		wg.Wait()
		for _, h := range handles {
			if h != handles[0] {
				t.Fatalf("concurrent acquirers got different handles: the tenant was opened more than once")
			}
		}
	})

	t.Run("EvictedWhileInUse", func(t *testing.T) {
		env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 2})
		env.MustCreate(t, "a", "b", "c")
		ha, releaseA, err := env.Store.Acquire(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		// Start a query on a's reader and keep its rows open across the eviction.
		rows, err := ha.Reader().Query("SELECT name FROM sqlite_schema")
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"b", "c"} {
			_, release, err := env.Store.Acquire(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			release()
		}
		if got, want := env.Store.Stats(), (tenantstore.Stats{Open: 2, Draining: 1, Size: 2}); got != want {
			t.Errorf("stats = %+v, want %+v", got, want)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil || n == 0 {
			t.Fatalf("query on evicted handle: %d rows, %v", n, err)
		}
		rows.Close()
		if _, err := ha.Writer().Exec("INSERT INTO settings (key, value, updated_at) VALUES ('x', '1', 0)"); err != nil {
			t.Fatalf("write on evicted handle: %v", err)
		}
		releaseA()
		releaseA() // a second release is harmless
		if got := env.Store.Stats().Draining; got != 0 {
			t.Errorf("draining after release = %d, want 0", got)
		}
		if err := ha.Reader().Ping(); err == nil || !errors.Is(err, sql.ErrConnDone) && err.Error() != "sql: database is closed" {
			t.Errorf("evicted handle not closed after its last release: ping = %v", err)
		}
		// a's write survived and a reopens.
		h, release, err := env.Store.Acquire(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		var v string
		if err := h.Reader().QueryRow("SELECT value FROM settings WHERE key = 'x'").Scan(&v); err != nil {
			t.Errorf("write lost across eviction: %v", err)
		}
	})

	t.Run("BoundUnderChurn", func(t *testing.T) {
		const size, tenants = 3, 12
		env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: size})
		for i := range tenants {
			env.MustCreate(t, fmt.Sprintf("t%d", i))
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		maxOpen := 0
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 60 {
					id := fmt.Sprintf("t%d", (w*7+i*5)%tenants)
					h, release, err := env.Store.Acquire(ctx, id)
					if condo.ErrorReason(err) == "pool_exhausted" {
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					st := env.Store.Stats()
					mu.Lock()
					maxOpen = max(maxOpen, st.Open+st.Draining)
					mu.Unlock()
					if st.Open > size || st.Open+st.Draining+st.Opening > 2*size {
						t.Errorf("stats %+v exceed the bound", st)
					}
					var n int
					if err := h.Reader().QueryRow("SELECT count(*) FROM users").Scan(&n); err != nil {
						t.Error(err)
					}
					release()
				}
			}()
		}
		wg.Wait()
		if st := env.Store.Stats(); st.Open > size || st.Draining != 0 {
			t.Errorf("after churn: %+v", st)
		}
		t.Logf("most handles open at once: %d", maxOpen)
	})

	t.Run("FullPool", func(t *testing.T) {
		env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 1})
		env.MustCreate(t, "a", "b", "c")
		_, ra, err := env.Store.Acquire(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		_, rb, err := env.Store.Acquire(ctx, "b") // evicts a, which drains
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = env.Store.Acquire(ctx, "c")
		if got, want := condo.ErrorReason(err), "pool_exhausted"; got != want {
			t.Fatalf("reason = %q (%v), want %q", got, err, want)
		}
		ra()
		_, rc, err := env.Store.Acquire(ctx, "c")
		if err != nil {
			t.Fatalf("after a release: %v", err)
		}
		rb()
		rc()
	})

	t.Run("BrokenTenantDoesNotPoison", func(t *testing.T) {
		env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 4})
		env.MustCreate(t, "gone", "corrupt", "fine")
		os.Remove(filepath.Join(env.DataDir, "tenants", "gone", "tenant.db"))
		os.WriteFile(filepath.Join(env.DataDir, "tenants", "corrupt", "tenant.db"), []byte("this is not a database, just text long enough to look like a header......................................................................................"), 0o640)
		for _, id := range []string{"gone", "corrupt"} {
			for range 2 {
				_, _, err := env.Store.Acquire(ctx, id)
				if got, want := condo.ErrorReason(err), "tenant_unavailable"; got != want {
					t.Errorf("Acquire(%s) reason = %q (%v), want %q", id, got, err, want)
				}
			}
		}
		if _, err := os.Stat(filepath.Join(env.DataDir, "tenants", "gone", "tenant.db")); !os.IsNotExist(err) {
			t.Errorf("Acquire recreated a missing file")
		}
		if got := env.Store.Stats(); got.Open != 0 || got.Opening != 0 {
			t.Errorf("failed opens left state behind: %+v", got)
		}
		h, release, err := env.Store.Acquire(ctx, "fine")
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		if err := h.Reader().PingContext(ctx); err != nil {
			t.Error(err)
		}
	})
}

func TestStore_Close(t *testing.T) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 4})
	env.MustCreate(t, "a", "b")
	ha, releaseA, err := env.Store.Acquire(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	hb, releaseB, err := env.Store.Acquire(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hb.Writer().Exec("INSERT INTO settings (key, value, updated_at) VALUES ('k', '1', 0)"); err != nil {
		t.Fatal(err)
	}
	releaseB()
	closed := make(chan error)
	go func() { closed <- env.Store.Close(ctx) }()
	// Close marks the store at once; wait for that, releasing any handle
	// acquired before it did.
	for {
		_, r, err := env.Store.Acquire(ctx, "a")
		if r != nil {
			r()
		}
		if condo.ErrorReason(err) == "shutting_down" {
			break
		}
	}
	// a is still in use: Close waits for it.
	if err := ha.Reader().PingContext(ctx); err != nil {
		t.Fatalf("in-use handle closed under its holder: %v", err)
	}
	releaseA()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(env.DataDir, "tenants", "b", "tenant.db-wal")); err == nil && fi.Size() > 0 {
		t.Errorf("b's WAL holds %d bytes after close", fi.Size())
	}
}

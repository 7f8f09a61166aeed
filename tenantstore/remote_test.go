package tenantstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/migrations/migrationstest"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// remoteEnv is a home store whose tenant "r" lives at another Condo
// server's tenant-a (an in-process server, reached over real HTTP at
// /_condo/tenants/tenant-a with an sql.owner token).
type remoteEnv struct {
	home  *tenantstoretest.Env
	loc   *apitest.Env
	token string
	url   string
	log   *bytes.Buffer
}

func newRemoteEnv(t *testing.T, set *migrations.Set) *remoteEnv {
	t.Helper()
	loc := apitest.New(t, api.Config{})
	e := &remoteEnv{loc: loc, url: loc.Srv.URL + api.TenantPathPrefix + "tenant-a", log: &bytes.Buffer{}}
	loc.AuthStore(t, "tenant-a", func(st *auth.Store) {
		var err error
		_, e.token, err = st.CreateAPIToken(context.Background(), auth.NewAPIToken{Name: "location",
			Permissions: auth.MustPerms(auth.SQLRead, auth.SQLWrite, auth.SQLOwner)})
		if err != nil {
			t.Fatal(err)
		}
	})
	e.home = tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{Migrations: set,
		Logger: slog.New(slog.NewTextHandler(e.log, nil))})
	return e
}

// atLocation runs query on tenant-a's own database, at the location.
func (e *remoteEnv) atLocation(t *testing.T, query string, dest ...any) {
	t.Helper()
	h, release, err := e.loc.Store.Acquire(context.Background(), "tenant-a")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if err := h.Reader().QueryRow(query).Scan(dest...); err != nil {
		t.Fatalf("%s at the location: %v", query, err)
	}
}

func TestStore_RemoteLocation(t *testing.T) {
	ctx := context.Background()
	e := newRemoteEnv(t, nil)
	tn, err := e.home.Store.Create(ctx, catalog.NewTenant{ID: "r", Location: e.url, LocationToken: e.token})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tn.Location, e.url; got != want {
		t.Errorf("location %q, want %q", got, want)
	}
	if got, want := tn.Schema.Version, migrations.Tenant().Latest(); got != want {
		t.Errorf("recorded schema %d, want the location's %d", got, want)
	}
	if _, err := os.Stat(filepath.Join(e.home.DataDir, "tenants", "r")); !os.IsNotExist(err) {
		t.Errorf("a remote tenant has files on the home volume: %v", err)
	}

	t.Run("ReadsAndWrites", func(t *testing.T) {
		h, release, err := e.home.Store.Acquire(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		if _, ok := h.Local(); ok || !h.Remote() {
			t.Fatal("a remote tenant's handle has a local file")
		}
		err = h.Transact(ctx, func(tx *sql.Tx) error {
			_, err := h.ExecTx(ctx, tx, "INSERT INTO settings (key, value, updated_at) VALUES ('remote', '\"yes\"', 0)")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var v string
		if err := h.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'remote'").Scan(&v); err != nil || v != `"yes"` {
			t.Fatalf("read back through the handle: %q %v", v, err)
		}
		e.atLocation(t, "SELECT value FROM settings WHERE key = 'remote'", &v)
		if v != `"yes"` {
			t.Errorf("at the location: %q", v)
		}
		// A duplicate key is the backend's UNIQUE error, as IsUnique knows it.
		_, err = h.Writer().ExecContext(ctx, "INSERT INTO settings (key, value, updated_at) VALUES ('remote', '1', 0)")
		if !h.IsUnique(err) {
			t.Errorf("duplicate key: %v, not IsUnique", err)
		}
	})

	t.Run("NoCopy", func(t *testing.T) {
		err := e.home.Store.CopyDatabase(ctx, "r", filepath.Join(t.TempDir(), "copy.db"))
		if got, want := condo.ErrorReason(err), "remote_tenant"; got != want {
			t.Errorf("copy of a remote tenant: %v, want %s", err, want)
		}
	})

	t.Run("BadLocations", func(t *testing.T) {
		for _, loc := range []string{"ftp://host/db", "/var/db.sqlite", "http://user:secret-pass@host/x", "https://host/x?authToken=secret-pass"} {
			_, err := e.home.Store.Create(ctx, catalog.NewTenant{ID: "bad", Location: loc, LocationToken: "t"})
			if condo.ErrorCode(err) != condo.EINVALID || strings.Contains(err.Error(), "secret-pass") {
				t.Errorf("location %s: %v, want EINVALID without the secret", libsqlRedacted(loc), err)
			}
		}
	})

	t.Run("Unreachable", func(t *testing.T) {
		dead := httptest.NewServer(nil)
		url := dead.URL
		dead.Close()
		_, err := e.home.Store.Create(ctx, catalog.NewTenant{ID: "gone", Location: url, LocationToken: "dead-token"})
		if got, want := condo.ErrorReason(err), "tenant_unavailable"; got != want || strings.Contains(err.Error(), "dead-token") {
			t.Errorf("unreachable location: %v, want %s without the token", err, want)
		}
		if _, err := e.home.Catalog.Lookup(ctx, "gone"); condo.ErrorCode(err) != condo.ENOTFOUND {
			t.Errorf("an unreachable location was recorded: %v", err)
		}
	})

	if strings.Contains(e.log.String(), e.token) {
		t.Errorf("the location token is in the home store's log:\n%s", e.log)
	}
}

// Migrations of a remote tenant: on open, and by Migrate, each under the
// tenant's migration lease in the catalog, so a node that holds it keeps
// every other from migrating the same database.
func TestStore_RemoteMigrations(t *testing.T) {
	ctx := context.Background()
	set := migrationstest.Set(t, "wordcount")
	e := newRemoteEnv(t, nil)
	if _, err := e.home.Store.Create(ctx, catalog.NewTenant{ID: "r", Location: e.url, LocationToken: e.token}); err != nil {
		t.Fatal(err)
	}
	// A second node's store over the same catalog, with a newer set.
	newer := tenantstore.New(e.home.Catalog, tenantstore.Config{DataDir: t.TempDir(), Migrations: set})
	t.Cleanup(func() { newer.Close(context.Background()) })

	t.Run("LeaseHeldElsewhere", func(t *testing.T) {
		if ok, err := e.home.Catalog.TakeMigrationLease(ctx, "r", "another-node", time.Minute); err != nil || !ok {
			t.Fatalf("take the lease: %v %v", ok, err)
		}
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if _, err := newer.Migrate(wctx, "r", migrationstest.Version); err == nil {
			t.Fatal("migrated while another node held the lease")
		}
		var v uint
		e.atLocation(t, "SELECT version FROM schema_migrations", &v)
		if v != migrationstest.Base {
			t.Errorf("version %d at the location, want %d untouched", v, migrationstest.Base)
		}
		if err := e.home.Catalog.ReleaseMigrationLease(ctx, "r", "another-node"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("OnOpen", func(t *testing.T) {
		_, release, err := newer.Acquire(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		release()
		var v uint
		e.atLocation(t, "SELECT version FROM schema_migrations", &v)
		if v != migrationstest.Version {
			t.Errorf("version %d at the location after open, want %d", v, migrationstest.Version)
		}
		tn, err := e.home.Catalog.Lookup(ctx, "r")
		if err != nil || tn.Schema.Version != migrationstest.Version {
			t.Errorf("recorded schema %+v %v", tn.Schema, err)
		}
	})

	t.Run("Down", func(t *testing.T) {
		if _, err := newer.Migrate(ctx, "r", migrationstest.Base); err != nil {
			t.Fatal(err)
		}
		var v uint
		e.atLocation(t, "SELECT version FROM schema_migrations", &v)
		if v != migrationstest.Base {
			t.Errorf("version %d at the location after down, want %d", v, migrationstest.Base)
		}
	})
}

// libsqlRedacted hides test secrets in a failure's message.
func libsqlRedacted(s string) string { return strings.ReplaceAll(s, "secret-pass", "***") }

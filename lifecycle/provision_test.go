package lifecycle_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/lifecycle"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// Provision creates a tenant with what fill wrote, or nothing: a failing
// fill leaves no catalog row and no folder, and the id stays free.
func TestProvision(t *testing.T) {
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
	ctx := context.Background()
	addUser := func(ctx context.Context, db *sqlitedb.DB, _ string) error {
		_, err := auth.New("shop", db).CreateUser(ctx, auth.NewUser{Email: "owner@shop.example", Password: "a long enough password", Role: auth.RoleAdmin},
			auth.Limits{Users: 10, Policy: auth.DefaultPasswordPolicy})
		return err
	}
	boom := errors.New("the starter content failed")
	_, err := lifecycle.Provision(ctx, env.Store, catalog.NewTenant{ID: "shop"}, func(ctx context.Context, db *sqlitedb.DB, media string) error {
		if err := addUser(ctx, db, media); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("a failing fill: %v", err)
	}
	if _, err := env.Catalog.Tenant(ctx, "shop"); condo.ErrorCode(err) != condo.ENOTFOUND {
		t.Fatalf("after a failed provision the tenant is %v, want none", err)
	}
	if _, err := os.Stat(filepath.Join(env.DataDir, "tenants", "shop")); !os.IsNotExist(err) {
		t.Fatalf("its folder: %v, want none", err)
	}
	if _, err := lifecycle.Provision(ctx, env.Store, catalog.NewTenant{ID: "shop"}, addUser); err != nil {
		t.Fatal(err)
	}
	h, release, err := env.Store.Acquire(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := auth.New("shop", h.DB).Authenticate(ctx, "owner@shop.example", "a long enough password"); err != nil {
		t.Fatalf("the user fill wrote: %v", err)
	}
}

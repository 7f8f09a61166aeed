package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/libsqldb"
	"github.com/condohq/condo/plans"
	"github.com/condohq/condo/tenantstore"
)

// initData serves `condo init`: it does what the first `condo serve` on a
// new data directory does (the catalog, the tenant "default" and the
// platform admin), for operators who provision before the first start.
// On a directory already initialised it changes nothing and fails, so a
// script that meant to start afresh notices.
func (m *Main) initData(ctx context.Context, args []string) error {
	// No --json: the generated password is printed once, as text.
	c := &command{fs: flag.NewFlagSet("init", flag.ContinueOnError), out: m.Stdout}
	c.fs.SetOutput(io.Discard)
	if err := c.cfg.register(c.fs, "data", "catalog", "base-domain"); err != nil {
		return usagef("%v", err)
	}
	if _, err := c.parse(args, 0, 0, "init [--data DIR] [--base-domain D] (admin from CONDO_ADMIN_EMAIL and CONDO_ADMIN_PASSWORD, else a generated password printed once)"); err != nil {
		return err
	}
	set, err := tenantMigrations(c.cfg.TenantMigrations)
	if err != nil {
		return err
	}
	cat, err := openCatalog(ctx, &c.cfg, catalog.Config{BaseDomain: c.cfg.BaseDomain})
	if err != nil {
		return err
	}
	defer cat.Close()
	if _, err := cat.Meta(ctx, "bootstrapped"); err == nil {
		return condo.ReasonErrorf(condo.ECONFLICT, "already_initialised",
			"%s is already initialised: nothing was changed", describeDir(c.cfg.Data))
	} else if condo.ErrorCode(err) != condo.ENOTFOUND {
		return err
	}
	store := tenantstore.New(cat, tenantstore.Config{DataDir: c.cfg.Data, PoolSize: 1, Migrations: set})
	defer store.Close(context.Background())
	// The same bootstrap as serve's first run; its log lines would only
	// repeat what the summary below says.
	if err := m.bootstrap(ctx, &c.cfg, cat, store, slog.New(slog.DiscardHandler)); err != nil {
		return err
	}
	_, err = fmt.Fprintf(m.Stdout, "initialised %s: the default tenant answers at http://default.%s/ once 'condo serve' runs\n",
		describeDir(c.cfg.Data), cat.BaseDomain(ctx))
	return err
}

// requireCatalog refuses a data directory without a catalog: every
// operator command but init and serve needs one, and opening a mistyped
// path would quietly create an empty catalog and report no tenants. A
// shared control plane (--catalog URL) is checked by opening it.
func requireCatalog(cfg *Config) error {
	if cfg.Catalog != "" {
		return nil
	}
	dir := cfg.Data
	_, err := os.Stat(catalog.Path(dir))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return condo.ReasonErrorf(condo.ENOTFOUND, "no_catalog",
			"no catalog in %s: check --data or CONDO_DATA (or --catalog for a shared one), or create one with 'condo init'", describeDir(dir))
	}
	return fmt.Errorf("data directory %s: %w", describeDir(dir), err)
}

// openCatalog opens the catalog cfg names: the shared control plane at
// --catalog, else the data directory's own file.
func openCatalog(ctx context.Context, cfg *Config, ccfg catalog.Config) (*catalog.Catalog, error) {
	if ccfg.Plans == nil {
		ps, err := plans.Load(cfg.Plans, nil)
		if err != nil {
			return nil, usagef("--plans: %s", err)
		}
		ccfg.Plans = ps
	}
	if cfg.Catalog != "" {
		if err := libsqldb.Validate(string(cfg.Catalog)); err != nil {
			return nil, usagef("--catalog: %s", condo.ErrorMessage(err))
		}
		return catalog.OpenURL(ctx, string(cfg.Catalog), string(cfg.CatalogToken), ccfg)
	}
	return catalog.Open(ctx, cfg.Data, ccfg)
}

// describeDir names a data directory as given, and where it resolves to
// when given relative, so a mistyped CONDO_DATA is plain to see.
func describeDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil && abs != dir {
		return fmt.Sprintf("%s (%s)", dir, abs)
	}
	return dir
}

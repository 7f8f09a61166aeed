package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/lifecycle"
	"github.com/condohq/condo/tenantstore"
)

// withStore runs fn with the command's catalog (this node's region and
// residency sets) and a tenant store over its data directory open.
func (c *command) withStore(ctx context.Context, fn func(*catalog.Catalog, *tenantstore.Store) error) error {
	residency, err := catalog.ParseResidencySets(c.cfg.ResidencySets)
	if err != nil {
		return usagef("--residency-sets: %v", err)
	}
	if err := requireCatalog(&c.cfg); err != nil {
		return err
	}
	cat, err := openCatalog(ctx, &c.cfg, catalog.Config{BaseDomain: c.cfg.BaseDomain, Region: envRegion(), ResidencySets: residency})
	if err != nil {
		return err
	}
	defer cat.Close()
	set, err := tenantMigrations(c.cfg.TenantMigrations)
	if err != nil {
		return err
	}
	scfg := tenantstore.Config{DataDir: c.cfg.Data, PoolSize: 1, Migrations: set}
	// With --backup-url, a delete erases the tenant's replica too (the
	// replicator is not started: the serving process replicates).
	if rep, err := newReplicator(&c.cfg, cat, slog.New(slog.DiscardHandler)); err != nil {
		return err
	} else if rep != nil {
		scfg.Backups = rep
	}
	store := tenantstore.New(cat, scfg)
	defer store.Close(context.Background())
	return fn(cat, store)
}

func (m *Main) tenantsExport(ctx context.Context, args []string) error {
	c := m.newCommand("tenants export")
	var out string
	c.fs.StringVar(&out, "o", "", "the archive to write (- for standard output)")
	pos, err := c.parse(args, 1, 1, "tenants export ID -o FILE")
	if err != nil {
		return err
	}
	if out == "" {
		return usagef("tenants export: -o FILE is required (- for standard output)")
	}
	b, _ := readBuildInfo(ctx)
	return c.withStore(ctx, func(cat *catalog.Catalog, store *tenantstore.Store) error {
		w, commit, abort, err := createAtomic(out, m.Stdout)
		if err != nil {
			return err
		}
		man, err := lifecycle.Export(ctx, cat, store, pos[0], w, lifecycle.ExportOptions{CondoVersion: b.Version, Progress: m.byteProgress("export " + pos[0])})
		if err == nil {
			err = commit()
		}
		if err != nil {
			abort()
			return err
		}
		var size int64
		for _, f := range man.Files {
			size += f.Size
		}
		if out == "-" {
			return nil // standard output holds the archive
		}
		return c.print(man, fmt.Sprintf("exported tenant %s to %s: %d files, %d bytes before compression, schema version %d",
			man.Tenant.ID, out, len(man.Files), size, man.SchemaVersion))
	})
}

func (m *Main) tenantsImport(ctx context.Context, args []string) error {
	c := m.newCommand("tenants import")
	var opt lifecycle.ImportOptions
	c.fs.StringVar(&opt.ID, "id", "", "create the tenant under this id (default: the exported one's; its domains are then left out)")
	c.fs.BoolVar(&opt.Replace, "replace", false, "import over the existing tenant of that id (its folder is kept under <data>/replaced)")
	c.cfg.register(c.fs, "residency-sets")
	pos, err := c.parse(args, 1, 1, "tenants import FILE [--id NEW] [--replace]")
	if err != nil {
		return err
	}
	var r io.Reader = m.Stdin
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return usagef("tenants import: %v", err)
		}
		defer f.Close()
		r = f
	}
	opt.Progress = m.byteProgress("import")
	return c.withStore(ctx, func(cat *catalog.Catalog, store *tenantstore.Store) error {
		if opt.Replace {
			if err := refuseBesideServer(ctx, cat, "import --replace", "POST /platform/tenants/import?replace=true"); err != nil {
				return err
			}
		}
		rep, err := lifecycle.Import(ctx, cat, store, r, opt)
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("imported tenant %s: %d files, %d bytes, schema version %d (archive at %d)",
			rep.Tenant.ID, rep.Files, rep.Bytes, rep.Tenant.Schema.Version, rep.FromVersion)
		if rep.Replaced != "" {
			msg += "\nreplaced the tenant that was there; its folder is kept at " + rep.Replaced
		}
		if len(rep.DroppedDomain) > 0 {
			msg += "\nleft out its domains, which still point at the original: " + strings.Join(rep.DroppedDomain, ", ")
		}
		return c.print(rep, msg)
	})
}

// createAtomic opens name for an archive: a temporary file beside it that
// commit syncs and renames into place, so an export that fails leaves no
// truncated archive under the name; "-" is stdout.
func createAtomic(name string, stdout io.Writer) (w io.Writer, commit func() error, abort func(), err error) {
	if name == "-" {
		return stdout, func() error { return nil }, func() {}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return nil, nil, nil, usagef("cannot write %s: %v", name, errors.Unwrap(err))
	}
	commit = func() error {
		if err := f.Sync(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return os.Rename(f.Name(), name)
	}
	abort = func() { f.Close(); os.Remove(f.Name()) }
	return f, commit, abort, nil
}

// byteProgress draws a byte count with rate on standard error when it is
// a terminal, and nothing otherwise (a log gets the final line).
func (m *Main) byteProgress(title string) lifecycle.Progress {
	f, ok := m.Stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	var bar *progressbar.ProgressBar
	return func(done, total int64) {
		if bar == nil {
			if total <= 0 {
				total = -1 // unknown: a spinner with the count
			}
			bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription(title),
				progressbar.OptionShowBytes(true), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		}
		bar.Set64(done)
	}
}

func (m *Main) tenantsDelete(ctx context.Context, args []string) error {
	c := m.newCommand("tenants delete")
	var yes bool
	var reason string
	c.fs.BoolVar(&yes, "yes", false, "confirm: the database, media, archives and snapshots are erased for good")
	c.fs.StringVar(&reason, "reason", "", "why, for the tombstone and the audit trail (a ticket, a request)")
	c.cfg.register(c.fs, "backup-url") // its replica in the backup store is erased too
	pos, err := c.parse(args, 1, 1, "tenants delete ID --yes [--reason R]")
	if err != nil {
		return err
	}
	if !yes {
		return usagef("tenants delete erases tenant %s for good: add --yes to confirm (export it first with `condo tenants export`)", pos[0])
	}
	return c.withStore(ctx, func(cat *catalog.Catalog, store *tenantstore.Store) error {
		ts, err := lifecycle.Delete(ctx, cat, store, pos[0], reason)
		if err != nil {
			return err
		}
		return c.print(ts, fmt.Sprintf("deleted tenant %s: its files and catalog records are gone; its id is kept by a tombstone until `condo tenants purge %s`", ts.ID, ts.ID))
	})
}

func (m *Main) tenantsPurge(ctx context.Context, args []string) error {
	c := m.newCommand("tenants purge")
	pos, err := c.parse(args, 1, 1, "tenants purge ID")
	if err != nil {
		return err
	}
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		if err := cat.Purge(ctx, pos[0]); err != nil {
			return err
		}
		return c.print(map[string]string{"id": pos[0], "status": "purged"}, fmt.Sprintf("purged the tombstone of tenant %s: the id is free", pos[0]))
	})
}

func (m *Main) tenantsArchive(ctx context.Context, args []string) error {
	return m.exclusive(ctx, args, "archive", func(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id string) (*catalog.Tenant, string, error) {
		b, _ := readBuildInfo(ctx)
		t, err := lifecycle.Archive(ctx, cat, store, id, b.Version)
		return t, fmt.Sprintf("archived tenant %s to %s: its hosts answer 410 until `condo tenants restore %s`", id, store.ArchivePath(id), id), err
	})
}

func (m *Main) tenantsRestore(ctx context.Context, args []string) error {
	return m.exclusive(ctx, args, "restore", func(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id string) (*catalog.Tenant, string, error) {
		t, err := lifecycle.Restore(ctx, cat, store, id)
		if err != nil {
			return nil, "", err
		}
		return t, fmt.Sprintf("restored tenant %s at schema version %d", id, t.Schema.Version), nil
	})
}

// exclusive runs an operation that takes a tenant out of service (archive,
// restore), refused beside a live server (refuseBesideServer).
func (m *Main) exclusive(ctx context.Context, args []string, op string,
	run func(context.Context, *catalog.Catalog, *tenantstore.Store, string) (*catalog.Tenant, string, error)) error {
	c := m.newCommand("tenants " + op)
	c.cfg.register(c.fs, "residency-sets")
	pos, err := c.parse(args, 1, 1, "tenants "+op+" ID")
	if err != nil {
		return err
	}
	return c.withStore(ctx, func(cat *catalog.Catalog, store *tenantstore.Store) error {
		if err := refuseBesideServer(ctx, cat, op, fmt.Sprintf("POST /platform/tenants/%s/%s", pos[0], op)); err != nil {
			return err
		}
		t, msg, err := run(ctx, cat, store, pos[0])
		if err != nil {
			return err
		}
		return c.print(t, msg)
	})
}

// refuseBesideServer refuses an operation that takes a tenant out of
// service while a server is up on the catalog: only the serving process
// can, so the message names the platform API call that does it there.
func refuseBesideServer(ctx context.Context, cat *catalog.Catalog, op, call string) error {
	nodes, err := cat.Nodes(ctx)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if n.Health == catalog.NodeUp {
			return condo.ReasonErrorf(condo.ECONFLICT, "server_running",
				"node %s serves this catalog: %s through it (%s), which takes the tenant out of service first", n.ID, op, call)
		}
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/fleet"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/tenantstore"
)

// EnvTenantMigrations names a directory of migration files that replaces
// the embedded tenant migrations, for `serve` and every command alike: a
// hidden setting for trying an unreleased migration, and for tests.
const EnvTenantMigrations = "CONDO_TENANT_MIGRATIONS"

// tenantMigrations returns the tenant migration set the process uses:
// the embedded one, or the one in dir (Config.TenantMigrations).
func tenantMigrations(dir string) (*migrations.Set, error) {
	if dir == "" {
		return migrations.Tenant(), nil
	}
	set, err := migrations.LoadDir(dir, "tenant")
	if err != nil {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_migrations", "%s: %v", EnvTenantMigrations, err)
	}
	return set, nil
}

// fleetEnv is what the migrate commands work with.
type fleetEnv struct {
	catalog *catalog.Catalog
	store   *tenantstore.Store
	runner  *fleet.Runner
}

// openFleet opens the catalog and a store without a pool to speak of:
// the commands migrate each tenant through a handle of its own.
func (c *command) openFleet(ctx context.Context) (*fleetEnv, error) {
	set, err := tenantMigrations(c.cfg.TenantMigrations)
	if err != nil {
		return nil, err
	}
	cat, err := c.open(ctx)
	if err != nil {
		return nil, err
	}
	store := tenantstore.New(cat, tenantstore.Config{DataDir: c.cfg.Data, PoolSize: 1, Migrations: set})
	return &fleetEnv{catalog: cat, store: store, runner: fleet.New(cat, store, nil)}, nil
}

func (e *fleetEnv) Close() {
	e.store.Close(context.Background())
	e.catalog.Close()
}

func (m *Main) migrateStatus(ctx context.Context, args []string) error {
	c := m.newCommand("migrate status")
	runs := c.fs.Int("runs", 10, "recent runs to list")
	if _, err := c.parse(args, 0, 0, "migrate status [--runs N] [--json]"); err != nil {
		return err
	}
	if *runs < 1 {
		return usagef("--runs must be at least 1")
	}
	env, err := c.openFleet(ctx)
	if err != nil {
		return err
	}
	defer env.Close()
	st, err := env.runner.Status(ctx, *runs)
	if err != nil {
		return err
	}
	return c.print(st, describeStatus(st))
}

const runUsage = "[--concurrency N] [--canary N] [--max-failures N] [--dry-run [--sample N]] [--json]"

// migrateRun runs `condo migrate up` and `condo migrate down`.
func (m *Main) migrateRun(ctx context.Context, args []string, direction string) error {
	c := m.newCommand("migrate " + direction)
	opt := fleet.DefaultOptions()
	opt.Direction = direction
	to := c.fs.String("to", "", "target version (up: default the latest)")
	c.fs.IntVar(&opt.Concurrency, "concurrency", fleet.DefaultConcurrency(), "tenants migrated at once")
	c.fs.IntVar(&opt.Canary, "canary", fleet.DefaultCanary, "tenants in the first wave, which must all succeed before the rest start (0: none)")
	c.fs.IntVar(&opt.MaxFailures, "max-failures", fleet.DefaultMaxFailures, "stop starting tenants once more than this many failed")
	c.fs.BoolVar(&opt.DryRun, "dry-run", false, "migrate copies of a sample of tenants and report what would fail; change nothing")
	c.fs.IntVar(&opt.Sample, "sample", fleet.DefaultSample, "tenants a dry run copies")
	usage := "migrate up [--to V] " + runUsage
	if direction == fleet.Down {
		usage = "migrate down --to V " + runUsage
	}
	if _, err := c.parse(args, 0, 0, usage); err != nil {
		return err
	}
	switch {
	case opt.Concurrency < 1:
		return usagef("--concurrency must be at least 1, got %d", opt.Concurrency)
	case opt.Canary < 0:
		return usagef("--canary cannot be negative, got %d", opt.Canary)
	case opt.MaxFailures < 0:
		return usagef("--max-failures cannot be negative, got %d", opt.MaxFailures)
	case opt.Sample < 1:
		return usagef("--sample must be at least 1, got %d", opt.Sample)
	case direction == fleet.Down && *to == "":
		return usagef("migrate down needs --to V, the version to go back to (usage: condo %s)", usage)
	}
	if *to != "" {
		v, err := parseVersionArg("--to", *to)
		if err != nil {
			return err
		}
		opt.Target = v
	}
	env, err := c.openFleet(ctx)
	if err != nil {
		return err
	}
	defer env.Close()
	p := m.newProgress(direction, opt.DryRun)
	opt.Progress = p.update
	rep, err := env.runner.Run(ctx, opt)
	p.finish()
	if err != nil {
		return err
	}
	if err := c.print(rep, describeReport(rep)); err != nil {
		return err
	}
	if !rep.OK() {
		what := "migrate " + direction
		if rep.DryRun {
			what += " --dry-run"
		}
		return fmt.Errorf("%s: %s", what, rep.Error)
	}
	return nil
}

func (m *Main) migrateForce(ctx context.Context, args []string) error {
	c := m.newCommand("migrate force")
	pos, err := c.parse(args, 2, 2, "migrate force ID VERSION")
	if err != nil {
		return err
	}
	v, err := parseVersionArg("VERSION", pos[1])
	if err != nil {
		return err
	}
	env, err := c.openFleet(ctx)
	if err != nil {
		return err
	}
	defer env.Close()
	if err := env.store.Force(ctx, pos[0], v); err != nil {
		return err
	}
	return c.print(map[string]any{"tenant_id": pos[0], "version": v, "dirty": false},
		fmt.Sprintf("tenant %s is at version %d, clean (no SQL was run)", pos[0], v))
}

// migrationName is what `condo migrate create` accepts as NAME.
var migrationName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,59}$`)

// migrationFile matches the files of a migration set.
var migrationFile = regexp.MustCompile(`^([0-9]+)_[^.]+\.(up|down)\.sql$`)

func (m *Main) migrateCreate(ctx context.Context, args []string) error {
	c := m.newCommand("migrate create")
	dir := c.fs.String("dir", filepath.Join("migrations", "tenant"), "the migration set's directory")
	pos, err := c.parse(args, 1, 1, "migrate create NAME [--dir migrations/tenant]")
	if err != nil {
		return err
	}
	name := pos[0]
	if !migrationName.MatchString(name) {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_name",
			"invalid migration name %q: use lower-case letters, digits and underscores, starting with a letter, such as add_word_count", condo.Clip(name))
	}
	entries, err := os.ReadDir(*dir)
	if err != nil {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_dir",
			"cannot read %s (%v): run this from the repository root, or pass --dir", *dir, err)
	}
	next := uint64(1)
	for _, e := range entries {
		if g := migrationFile.FindStringSubmatch(e.Name()); g != nil {
			if n, err := strconv.ParseUint(g[1], 10, 32); err == nil && n >= next {
				next = n + 1
			}
		}
	}
	base := fmt.Sprintf("%06d_%s", next, name)
	up, down := filepath.Join(*dir, base+".up.sql"), filepath.Join(*dir, base+".down.sql")
	if err := writeNew(up, fmt.Sprintf(upTemplate, base, migrations.NoTransaction)); err != nil {
		return err
	}
	if err := writeNew(down, fmt.Sprintf(downTemplate, base)); err != nil {
		os.Remove(up)
		return err
	}
	return c.print(map[string]any{"version": next, "up": up, "down": down},
		fmt.Sprintf("created %s\ncreated %s", up, down))
}

const upTemplate = `-- %s (up)
--
-- Every tenant database runs this, in one transaction with its version
-- update: if it fails, the tenant stays at its old version. Old binaries
-- keep serving while a fleet migrates, so expand only here (new tables,
-- columns with a default, indexes) and drop what they read in a later
-- migration, once no binary reads it: see docs/MIGRATIONS.md.
-- SQL that cannot run in a transaction goes in a migration of its own
-- whose first line is "%s".
`

const downTemplate = `-- %s (down)
--
-- Undo the up migration, for condo migrate down.
`

func writeNew(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return condo.Errorf(condo.ECONFLICT, "cannot create %s: %v", path, err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseVersionArg reads a migration version from the command line.
func parseVersionArg(what, s string) (uint, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, usagef("%s: %q is not a version number", what, condo.Clip(s))
	}
	return uint(v), nil
}

func describeStatus(st *fleet.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tenant schema: latest version %d", st.Latest)
	if st.Target != nil {
		fmt.Fprintf(&b, ", fleet target %d (servers migrate tenants no further on open)", *st.Target)
	}
	fmt.Fprintf(&b, "\n%d tenants", st.Tenants)
	if st.Archived > 0 {
		fmt.Fprintf(&b, " (and %d archived, migrated when restored)", st.Archived)
	}
	b.WriteString("\n\n")
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "VERSION\tTENANTS\tDIRTY\tFAILING\t")
	for _, v := range st.Versions {
		mark := ""
		if v.Version == st.Latest {
			mark = "latest"
		}
		fmt.Fprintf(w, "%d\t%d\t%d\t%d\t%s\n", v.Version, v.Tenants, v.Dirty, v.Failing, mark)
	}
	w.Flush()
	if st.ProblemCount > 0 {
		fmt.Fprintf(&b, "\n%d tenants need attention:\n", st.ProblemCount)
		for _, p := range st.Problems {
			state := "failing (intact at this version; the next run retries it)"
			if p.Schema.Dirty {
				state = "DIRTY (fix by hand, then condo migrate force " + p.TenantID + " VERSION)"
			}
			fmt.Fprintf(&b, "  %s  version %d  %s\n      %s\n", p.TenantID, p.Schema.Version, state, p.Schema.Error)
		}
		if len(st.Problems) < st.ProblemCount {
			fmt.Fprintf(&b, "  ... and %d more (--json lists the first %d)\n", st.ProblemCount-len(st.Problems), len(st.Problems))
		}
	}
	if len(st.Runs) == 0 {
		b.WriteString("\nno migration runs yet")
		return b.String()
	}
	b.WriteString("\nrecent runs:\n")
	w = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tRUN\tSTATUS\tSTARTED\tTOOK\tTOTAL\tMIGRATED\tSKIPPED\tFAILED")
	for _, r := range st.Runs {
		took := "-"
		if r.FinishedAt != nil {
			took = r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
		}
		fmt.Fprintf(w, "%s\t%s to %d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\n", r.ID, r.Direction, r.Target, r.Status,
			r.StartedAt.Local().Format("2006-01-02 15:04:05"), took, r.Total, r.Migrated, r.Skipped, r.Failed)
	}
	w.Flush()
	for _, r := range st.Runs {
		if r.Status != catalog.RunSucceeded && r.Error != "" {
			fmt.Fprintf(&b, "%s: %s\n", r.ID, r.Error)
		}
	}
	return b.String()
}

func describeReport(r *fleet.Report) string {
	var b strings.Builder
	took := time.Duration(r.DurationMS) * time.Millisecond
	if r.DryRun {
		fmt.Fprintf(&b, "dry run of migrate %s to %d: %s in %s\n", r.Direction, r.Target, r.Status, took)
		fmt.Fprintf(&b, "  %d of %d tenants would be migrated; %d sampled, copies migrated, originals untouched\n",
			r.Queued, r.Total, len(r.Samples))
		if r.RemoteUnsampled > 0 {
			fmt.Fprintf(&b, "  %d at remote locations not sampled: a dry run copies files, and they have none here\n", r.RemoteUnsampled)
		}
	} else {
		fmt.Fprintf(&b, "migrate %s to %d: %s in %s (run %s)\n", r.Direction, r.Target, r.Status, took, r.ID)
		fmt.Fprintf(&b, "  %d tenants: %d migrated, %d skipped (already there), %d failed", r.Total, r.Migrated, r.Skipped, r.Failed)
		if r.NotStarted > 0 {
			fmt.Fprintf(&b, ", %d not started", r.NotStarted)
		}
		b.WriteString("\n")
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "  %s\n", r.Error)
	}
	if len(r.Failures) > 0 {
		b.WriteString("failures:\n")
		for _, f := range r.Failures {
			dirty := ""
			if f.Dirty {
				dirty = ", DIRTY"
			}
			fmt.Fprintf(&b, "  %s (version %d%s): %s\n", f.TenantID, f.Version, dirty, f.Error)
		}
		if r.Failed > len(r.Failures) {
			fmt.Fprintf(&b, "  ... and %d more\n", r.Failed-len(r.Failures))
		}
	}
	if !r.DryRun && r.Status != catalog.RunSucceeded {
		b.WriteString("run it again to retry what is left; condo migrate status shows where every tenant stands\n")
	}
	return b.String()
}

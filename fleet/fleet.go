// Package fleet moves every tenant database to one schema version: a
// canary wave first, then the rest with bounded concurrency, stopping
// early once failures pass a threshold. Each run and each tenant's outcome
// is recorded in the catalog, so a run can be watched from another
// process, and resumed: running again after a crash, a kill -9 or a fix
// finishes what is left, and tenants already at the target cost nothing.
//
// The runner migrates through tenantstore.Store.Migrate, which uses the
// pool's handle where the tenant is open (the server's own runs) and takes
// SQLite's write lock for each tenant, so a run beside a live server, in
// the server or in another process, never applies a step twice and never
// leaves a tenant half-migrated: a tenant that fails stays at its old
// version, dirty only where a no-transaction step failed.
//
// Which tenants a run takes: active and suspended ones below the target
// (above it, going down). Archived tenants are migrated when restored.
// Dirty tenants are not attempted: they are reported as failures until
// fixed by hand and forced (`condo migrate force`).
package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/tenantstore"
)

// Directions of a run.
const (
	Up   = "up"
	Down = "down"
)

// Defaults for Options (see DefaultOptions).
const (
	DefaultCanary      = 5
	DefaultMaxFailures = 10
	DefaultSample      = 5
	// HeartbeatInterval is how often a run writes its progress to the
	// catalog, which is also its sign of life.
	HeartbeatInterval = 2 * time.Second
	// StaleAfter is how long a running run may stay silent before another
	// process takes it for dead and marks it interrupted.
	StaleAfter = time.Minute
	// RecordBatch is how many tenants a run marks pending, and how many
	// outcomes it records, in one catalog transaction; RecordEvery is the
	// longest an outcome waits for its batch, so progress keeps moving.
	RecordBatch = 64
	RecordEvery = 250 * time.Millisecond
)

// DefaultConcurrency is the number of tenants migrated at once by default:
// two per CPU. Migrating is mostly CPU work, but each tenant also waits on
// a few fsyncs; with one per CPU the cores idled behind the disk (measured
// in docs/PERFORMANCE.md).
func DefaultConcurrency() int { return 2 * runtime.NumCPU() }

// Options describe a run.
type Options struct {
	// Direction is Up (the default when empty) or Down.
	Direction string
	// Target is the version to reach. Up with zero means the set's latest
	// version; Down needs one of at least 1 (version 0 is the empty
	// database: going there would drop every table).
	Target uint
	// Concurrency is how many tenants migrate at once; zero means
	// DefaultConcurrency().
	Concurrency int
	// Canary is the size of the first wave, migrated and checked before
	// any other tenant starts: a failure in it stops the run. Zero means no
	// canary wave.
	Canary int
	// MaxFailures: once more tenants than this have failed, the run starts
	// no new ones and finishes those in flight. Zero stops at the first
	// failure.
	MaxFailures int
	// DryRun migrates copies of Sample tenant databases, taken into a
	// temporary directory, and reports what would fail. It changes nothing
	// and records no run.
	DryRun bool
	// Sample is how many tenants a dry run copies; zero means
	// DefaultSample.
	Sample int
	// Progress, if set, is called after every tenant and at the end of each
	// wave, never by two goroutines at once. It should return quickly.
	Progress func(Progress)
}

// DefaultOptions returns the options of `condo migrate up` without flags.
func DefaultOptions() Options {
	return Options{Direction: Up, Canary: DefaultCanary, MaxFailures: DefaultMaxFailures, Sample: DefaultSample}
}

// Progress reports how far a run has got.
type Progress struct {
	RunID string
	// Wave is "canary" or "main" ("sample" in a dry run).
	Wave string
	// WaveDone is set on the one call that ends a wave.
	WaveDone bool
	// Queued counts the tenants the run works on, Done those finished.
	Queued, Done int
	// Migrated, Skipped and Failed count the whole run so far.
	Migrated, Skipped, Failed int
	// TenantID and Err describe the tenant just finished.
	TenantID string
	Err      error
	Elapsed  time.Duration
}

// Report is the outcome of a run: its catalog record plus what only the
// process that ran it knows.
type Report struct {
	catalog.MigrationRun
	// Latest is the binary's latest tenant schema version.
	Latest uint `json:"latest"`
	// Queued counts the tenants the run had to work on; the others were
	// already at the target (or beyond it, the other way).
	Queued int `json:"queued"`
	// NotStarted counts the queued tenants left for the next run because
	// this one stopped early.
	NotStarted int      `json:"not_started"`
	DryRun     bool     `json:"dry_run,omitempty"`
	Samples    []Sample `json:"samples,omitempty"`
	// RemoteUnsampled counts the queued tenants a dry run could not
	// sample: they live at a remote location, with no file here to copy.
	RemoteUnsampled int   `json:"remote_unsampled,omitempty"`
	DurationMS      int64 `json:"duration_ms"`
}

// OK reports whether the run reached the target everywhere it had to.
func (r *Report) OK() bool { return r.Status == catalog.RunSucceeded }

// Sample is one tenant a dry run migrated on a copy.
type Sample struct {
	TenantID   string `json:"tenant_id"`
	From       uint   `json:"from"`
	OK         bool   `json:"ok"`
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// Runner runs fleet migrations over one catalog and tenant store.
type Runner struct {
	catalog *catalog.Catalog
	store   *tenantstore.Store
	logger  *slog.Logger
}

// New returns a runner migrating the tenants of cat through store, with
// store's migration set. A nil logger discards.
func New(cat *catalog.Catalog, store *tenantstore.Store, logger *slog.Logger) *Runner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{catalog: cat, store: store, logger: logger}
}

// Run runs a migration (or a dry run) to the end and reports it. Tenant
// failures are in the report (Status "failed"); the error is for a run
// that could not start or be recorded.
//
// Errors: EINVALID for bad options; ECONFLICT: run_in_progress while
// another run is live, schema_ahead when a tenant is above this binary's
// latest version (a dry run too).
func (r *Runner) Run(ctx context.Context, opt Options) (*Report, error) {
	if opt.DryRun {
		return r.dryRun(ctx, opt)
	}
	run, err := r.Start(ctx, opt)
	if err != nil {
		return nil, err
	}
	return run.Execute(ctx)
}

// resolve checks opt and fills its defaults.
func (r *Runner) resolve(opt Options) (Options, error) {
	set := r.store.Migrations()
	switch opt.Direction {
	case "":
		opt.Direction = Up
	case Up, Down:
	default:
		return opt, condo.ReasonErrorf(condo.EINVALID, "invalid_direction", "unknown direction %q: use up or down", opt.Direction)
	}
	if opt.Direction == Up && opt.Target == 0 {
		opt.Target = set.Latest()
	}
	if opt.Target > set.Latest() {
		return opt, condo.ReasonErrorf(condo.EINVALID, "invalid_version",
			"version %d is above the latest tenant migration (%d)", opt.Target, set.Latest())
	}
	if opt.Direction == Down && opt.Target == 0 {
		return opt, condo.ReasonErrorf(condo.EINVALID, "invalid_version",
			"going down to version 0 would drop every table of every tenant: give a version of at least 1")
	}
	if !set.Has(opt.Target) {
		return opt, condo.ReasonErrorf(condo.EINVALID, "invalid_version",
			"no tenant migration has version %d (versions: %s)", opt.Target, versions(set.Steps()))
	}
	switch {
	case opt.Concurrency < 0:
		return opt, condo.ReasonErrorf(condo.EINVALID, "invalid_concurrency", "concurrency must be at least 1, got %d", opt.Concurrency)
	case opt.Canary < 0:
		return opt, condo.ReasonErrorf(condo.EINVALID, "invalid_canary", "the canary wave cannot be negative, got %d", opt.Canary)
	case opt.MaxFailures < 0:
		return opt, condo.ReasonErrorf(condo.EINVALID, "invalid_max_failures", "max failures cannot be negative, got %d", opt.MaxFailures)
	case opt.Sample < 0:
		return opt, condo.ReasonErrorf(condo.EINVALID, "invalid_sample", "the sample cannot be negative, got %d", opt.Sample)
	}
	if opt.Concurrency == 0 {
		opt.Concurrency = DefaultConcurrency()
	}
	if opt.Sample == 0 {
		opt.Sample = DefaultSample
	}
	return opt, nil
}

// refuseAhead refuses a run while a tenant is above this binary's latest
// version, up or down: a newer binary migrated it and only that binary has
// the files to move it, so a run could never finish. A pending migration
// towards such a version counts too, since it may have committed.
//
// Errors: ECONFLICT (schema_ahead).
func (r *Runner) refuseAhead(ctx context.Context) error {
	ts, err := r.catalog.SchemaTenants(ctx)
	if err != nil {
		return fmt.Errorf("list tenants: %w", err)
	}
	latest := r.store.Migrations().Latest()
	var first *catalog.SchemaTenant
	n, at := 0, uint(0)
	for i, t := range ts {
		v := t.Schema.Version
		if t.Pending != nil {
			v = max(v, *t.Pending)
		}
		if v <= latest {
			continue
		}
		if n++; first == nil {
			first, at = &ts[i], v
		}
	}
	if first == nil {
		return nil
	}
	others := ""
	if n > 1 {
		others = fmt.Sprintf(" (and %d other tenants)", n-1)
	}
	return condo.ReasonErrorf(condo.ECONFLICT, "schema_ahead",
		"tenant %s%s is at schema version %d, ahead of this binary's latest tenant migration (%d): a newer binary migrated it, so run the migration with that binary; nothing was started",
		first.ID, others, at, latest)
}

// versions lists a set's versions for an error message.
func versions(steps []migrations.Step) string {
	var b strings.Builder
	b.WriteString("0")
	for _, st := range steps {
		fmt.Fprintf(&b, ", %d", st.Version)
	}
	return b.String()
}

// queue sorts the tenants of a run: the ones to migrate, how many need
// nothing, and the dirty ones, which cannot be migrated until forced.
func queue(ts []catalog.SchemaTenant, dir string, target uint) (todo []catalog.SchemaTenant, skipped int, blocked []catalog.RunFailure) {
	for _, t := range ts {
		switch {
		case t.Schema.Dirty:
			blocked = append(blocked, catalog.RunFailure{TenantID: t.ID, Version: t.Schema.Version, Dirty: true,
				Error: fmt.Sprintf("dirty at version %d (%s): fix it by hand, then run condo migrate force %s VERSION", t.Schema.Version, t.Schema.Error, t.ID)})
		case t.Pending != nil: // a crash left its outcome unrecorded: look at the file
			todo = append(todo, t)
		case dir == Up && t.Schema.Version < target, dir == Down && t.Schema.Version > target:
			todo = append(todo, t)
		default:
			skipped++
		}
	}
	return todo, skipped, blocked
}

// spread picks n of ts evenly spaced over the list, so a canary or a
// sample is not just the tenants whose ids sort first, and returns them
// and the others, both in their original order.
func spread(ts []catalog.SchemaTenant, n int) (picked, rest []catalog.SchemaTenant) {
	if n >= len(ts) {
		return ts, nil
	}
	if n <= 0 {
		return nil, ts
	}
	chosen := make(map[int]bool, n)
	for i := 0; i < n; i++ {
		chosen[i*len(ts)/n] = true
	}
	for i, t := range ts {
		if chosen[i] {
			picked = append(picked, t)
		} else {
			rest = append(rest, t)
		}
	}
	return picked, rest
}

// Package jobs owns the long-running work of a server: its background
// loops (scheduled publishing, for one) and the fleet migration runs
// started over HTTP. `condo serve` builds one with New, starts it with
// Start before it accepts requests and stops it with Close after the HTTP
// server has drained; the api package only asks it to start a run or to
// report on runs, so no goroutine outlives a request without an owner that
// stops it.
//
// Goroutines: Start starts one per loop; StartMigration starts one per run
// (at most one live at a time). Each ends when the Jobs' context ends:
// Close cancels it and waits for every goroutine until its own ctx ends.
//
// What a loop does belongs to its domain package (cms.Scheduler.Run), so
// jobs imports no domain package and imports run downward only.
package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/fleet"
	"github.com/condohq/condo/move"
	"github.com/condohq/condo/tenantstore"
)

// Config tunes a Jobs.
type Config struct {
	Logger *slog.Logger // nil discards
}

// Loop is background work that runs from Start until Close: it must return
// soon after ctx ends.
type Loop func(ctx context.Context)

// Jobs owns a server's background loops and its fleet migration runs.
type Jobs struct {
	fleet  *fleet.Runner
	logger *slog.Logger

	mu      sync.Mutex // guards the fields below
	loops   []Loop
	ctx     context.Context // every goroutine's context; nil before Start
	cancel  context.CancelFunc
	wg      sync.WaitGroup // every goroutine started by Start or StartMigration
	runDone chan struct{}  // closed when the live run's goroutine returns
	runID   string         // that run's id
	mover   *move.Mover    // set by Moves; nil runs no moves
	closed  bool
}

// New builds a Jobs over the catalog and the store the server uses, so a
// run started here migrates through the server's own pool. It does no I/O
// and starts nothing.
func New(cat *catalog.Catalog, store *tenantstore.Store, cfg Config) *Jobs {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Jobs{fleet: fleet.New(cat, store, cfg.Logger), logger: cfg.Logger}
}

// Loop adds a loop to run on a goroutine of its own from Start until
// Close. Call it before Start.
func (j *Jobs) Loop(l Loop) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.ctx != nil {
		panic("jobs: Loop after Start")
	}
	j.loops = append(j.loops, l)
}

// Start starts the loops. ctx bounds every job's life as Close does;
// serve passes one that ends only with the process.
func (j *Jobs) Start(ctx context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.ctx != nil || j.closed {
		return errors.New("jobs: started twice or after Close")
	}
	j.ctx, j.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, l := range j.loops {
		j.wg.Go(func() { l(j.ctx) })
	}
	return nil
}

// Close stops every job (a live fleet run's in-flight tenants roll back
// and the run is recorded as interrupted) and waits for their goroutines
// until ctx ends. Jobs refuses new work afterwards.
func (j *Jobs) Close(ctx context.Context) error {
	j.mu.Lock()
	j.closed = true
	cancel := j.cancel
	j.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	done := make(chan struct{})
	go func() { j.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StartMigration begins a fleet run and executes it in the background,
// returning its record at once.
//
// Errors: EINVALID for bad options; ECONFLICT (run_in_progress) while a
// run is live, here or in another process; ECONFLICT (schema_ahead) when a
// tenant is ahead of this binary; EUNAVAILABLE (shutting_down) before
// Start or after Close.
func (j *Jobs) StartMigration(ctx context.Context, opt fleet.Options) (catalog.MigrationRun, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.ctx == nil || j.closed {
		return catalog.MigrationRun{}, condo.ReasonErrorf(condo.EUNAVAILABLE, "shutting_down", "the server is shutting down")
	}
	if j.runDone != nil {
		select {
		case <-j.runDone:
		default:
			// A run records its end before its goroutine returns: a caller
			// who read "succeeded" and starts the next run at once waits
			// for those last steps instead of being refused.
			if r, err := j.fleet.Lookup(ctx, j.runID); err != nil || r.Status == catalog.RunRunning {
				return catalog.MigrationRun{}, condo.ReasonErrorf(condo.ECONFLICT, "run_in_progress",
					"a migration run is in progress in this server: wait for it to finish")
			}
			select {
			case <-j.runDone:
			case <-ctx.Done():
				return catalog.MigrationRun{}, ctx.Err()
			}
		}
	}
	run, err := j.fleet.Start(ctx, opt) // also refuses while another process runs one
	if err != nil {
		return catalog.MigrationRun{}, err
	}
	done := make(chan struct{})
	j.runDone, j.runID = done, run.ID()
	j.wg.Go(func() {
		defer close(done)
		rep, err := run.Execute(j.ctx) // outlives the request; ends with Close
		if err != nil {
			j.logger.Error("migration run failed", "run", run.ID(), "err", err)
		} else if !rep.OK() {
			j.logger.Warn("migration run did not succeed", "run", rep.ID, "status", rep.Status, "err", rep.Error)
		}
	})
	return run.Record(), nil
}

// MigrationStatus reports the fleet's schema status and its newest runs,
// a running one with its progress.
func (j *Jobs) MigrationStatus(ctx context.Context, runs int) (*fleet.Status, error) {
	return j.fleet.Status(ctx, runs)
}

// MigrationRun reports one run. Errors: ENOTFOUND (run_not_found).
func (j *Jobs) MigrationRun(ctx context.Context, id string) (*catalog.MigrationRun, error) {
	return j.fleet.Lookup(ctx, id)
}
